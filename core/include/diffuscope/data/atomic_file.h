// Writing files so that a crash or an error never leaves a half-written result: write to a
// temporary file next to the target (hidden: ".NAME.tmp-PID"), flush it to disk (fsync), then
// rename it over the target and sync the directory. A process killed at any moment (kill -9, a
// node failure) leaves the target either as it was or complete: never a mixture, and after a
// power loss never an empty or truncated file that the rename made visible. A temporary left by
// a killed writer is removed by the next write of the same target (when its process is gone).
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace ds {

// Calls write(stream) on a temporary file in the target's directory and renames it to path on
// success; on any exception the temporary is removed and the target left untouched. Throws
// FileError naming path.
// The general form: write(temporary_path) creates the file (for libraries such as HDF5 that want a
// path, not a stream); on success it is renamed to path, on failure removed.
void write_path_atomically(const std::string& path,
                           const std::function<void(const std::string& temporary_path)>& write);

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           bool binary = false);

}  // namespace ds
