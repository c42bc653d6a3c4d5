// Small text helpers shared by the loaders, the CLI and the GUI (one definition each).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ds {

// "[2, 64, 64]": a shape as error messages print it.
std::string shape_text(const std::vector<std::size_t>& shape);

// True when s ends with suffix (case-sensitive: ".npy", ".h5").
bool ends_with(const std::string& s, const std::string& suffix);

}  // namespace ds
