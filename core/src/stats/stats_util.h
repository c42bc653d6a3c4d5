// Small private helpers of the statistics sources: number formatting for messages. (The parallel
// loop they use is numerics/parallel.h.)
#pragma once

#include <cstdio>
#include <string>

namespace ds::detail {

// %g formatting for error messages ("1000", not "1000.000000").
inline std::string format_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

}  // namespace ds::detail
