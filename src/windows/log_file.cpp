// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// An output stream's log file (StdioSpec::Mode::log_file) on Windows: its file operations, under
// the portable rotation (process/rotating_log.hpp). The file is opened shared for deletion, so
// that it can be renamed to `path.1` while open; renames replace their target (MoveFileExW).
#include <windows.h>

#include <fmt/format.h>

#include <string>
#include <utility>

#include <supervisor/export.hpp>

#include "../process/rotating_log.hpp"
#include "pipes.hpp"
#include "utf16.hpp"

namespace supervisor::detail {
namespace win {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::wstring wide_path(const std::string& path) {
  ErrorSink ignored;  // checked when the file was first opened
  const std::u16string w = utf8_to_utf16(path, "path", ignored);
  return std::wstring(w.begin(), w.end());
}

class WindowsLogFile final : public RotatingLog {
 public:
  WindowsLogFile(const StdioSpec& io, UniqueHandle h, std::uint64_t size)
      : RotatingLog(io, size), follow_(io.follow_symlinks), file_(std::move(h)) {}

 private:
  void append_to_file(std::string_view data) override {
    while (!data.empty() && file_) {
      DWORD n = 0;
      const auto chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1U << 30));
      if (!::WriteFile(file_.get(), data.data(), chunk, &n, nullptr) || n == 0) return;
      data.remove_prefix(n);
    }
  }
  bool truncate_file() override {
    LARGE_INTEGER zero{};
    return file_ && ::SetFilePointerEx(file_.get(), zero, nullptr, FILE_BEGIN) &&
           ::SetEndOfFile(file_.get());
  }
  void rename_file(const std::string& from, const std::string& to) override {
    (void)::MoveFileExW(wide_path(from).c_str(), wide_path(to).c_str(), MOVEFILE_REPLACE_EXISTING);
  }
  void reopen_truncated() override {
    file_.reset();
    ErrorSink ignored;  // on failure writes are dropped until the next rotation
    file_ = open_std_file(path(), false, false, follow_, "log_file", ignored);
  }

  const bool follow_;
  UniqueHandle file_;
};

SUPERVISOR_LOCAL_END
}  // namespace win

SUPERVISOR_INLINE std::unique_ptr<LogFile> open_log_file(const StdioSpec& io,
                                                         std::string_view field, ErrorSink& err) {
  win::UniqueHandle h = win::open_std_file(io.path, false, true, io.follow_symlinks, field, err);
  if (err) return nullptr;
  LARGE_INTEGER size{};
  const std::uint64_t bytes = ::GetFileSizeEx(h.get(), &size) && size.QuadPart > 0
                                  ? static_cast<std::uint64_t>(size.QuadPart)
                                  : 0;
  return std::make_unique<win::WindowsLogFile>(io, std::move(h), bytes);
}

}  // namespace supervisor::detail
