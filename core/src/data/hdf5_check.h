// Untrusted HDF5 files are read first in a process of their own (private to core; README
// "Untrusted files"). libhdf5 1.10 crashes, loops forever or allocates terabytes on some corrupt
// or crafted files, inside the library, where no check of Diffuscope's can come first: fuzzing
// found hundreds of such inputs. So before this process lets libhdf5 open a file for reading,
// diffuscope-hdf5-check (app/hdf5_check/main.cpp) reads every part of it that a loader could
// touch, under a time limit and a 4 GiB address-space limit; a file that crashes it, hangs it or
// makes it ask for more memory is refused with a FileError naming the file and the part, and the
// application goes on.
//
// A file is checked once per process while it stays the same (device, inode, size and
// modification time); files this process wrote itself are not checked. The program is looked for
// at DIFFUSCOPE_HDF5_CHECK (a path: then only there), else next to the running executable, in
// the installed libexec folder relative to it, and in the build tree.
// DIFFUSCOPE_HDF5_ISOLATION=off reads files in process unchecked (trusted bulk work; the check
// costs 10-40 ms per file otherwise); DIFFUSCOPE_HDF5_CHECK_TIMEOUT sets the time limit in
// seconds (default 20).
#pragma once

#include <cstddef>
#include <string>

namespace ds::detail {

// Throws FileError when the check refuses `path`: "not an HDF5 file (or corrupt)" and "cannot open
// HDF5 file (corrupt or truncated?)" as libhdf5 would say them here, or a crash, hang or memory
// claim found by the check, naming where. Throws Cancelled when the calling job is cancelled while
// it waits. Returns at once for a file already checked or written by this process.
void check_hdf5_file(const std::string& path);

// A file this process has just written completely (Hdf5File::close): reading it back needs no
// check while it stays as written.
void trust_hdf5_file(const std::string& path);

// Check processes this process has started (tests).
std::size_t hdf5_check_processes();

}  // namespace ds::detail
