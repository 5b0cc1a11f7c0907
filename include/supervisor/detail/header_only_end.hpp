// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// No include guard: included at the end of each public header that a program included directly
// (the outermost one, by SUPERVISOR_OUTERMOST), once it is complete. In header-only mode the
// library's implementation follows, once per translation unit.

#undef SUPERVISOR_OUTERMOST
#if defined(SUPERVISOR_HEADER_ONLY)
#  include <supervisor/detail/header_only.hpp>
#endif
