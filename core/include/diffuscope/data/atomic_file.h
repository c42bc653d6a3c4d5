// Writing files so that a crash or an error never leaves a half-written result: write to a
// temporary file next to the target, then rename over it.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace ds {

// Calls write(stream) on a temporary file in the target's directory and renames it to path on
// success; on any exception the temporary is removed and the target left untouched. Throws
// FileError naming path.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           bool binary = false);

}  // namespace ds
