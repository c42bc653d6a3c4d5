// One table per choice the user can make (colormap, device, statistic, model kind, ...): the
// CLI builds its flag checks and help from it, the GUI fills its combo boxes from it.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "diffuscope/error.h"

namespace ds {

template <class Enum>
struct RegistryEntry {
  Enum value;
  const char* name;         // the token used on the command line and in files
  const char* label;        // short human-readable label for GUI lists
  const char* description;  // one line for --help
};

template <class Enum, std::size_t N>
class Registry {
 public:
  constexpr Registry(const char* what, std::array<RegistryEntry<Enum>, N> entries)
      : what_(what), entries_(entries) {}

  const std::array<RegistryEntry<Enum>, N>& entries() const { return entries_; }
  constexpr std::size_t size() const { return N; }
  const char* what() const { return what_; }

  const RegistryEntry<Enum>& entry(Enum value) const {
    for (const auto& e : entries_)
      if (e.value == value) return e;
    throw InvalidArgument(std::string("unregistered ") + what_ + " value");
  }
  const char* name(Enum value) const { return entry(value).name; }
  const char* label(Enum value) const { return entry(value).label; }

  // Position in the table (the index of a GUI combo box).
  int index(Enum value) const {
    for (std::size_t i = 0; i < N; ++i)
      if (entries_[i].value == value) return static_cast<int>(i);
    throw InvalidArgument(std::string("unregistered ") + what_ + " value");
  }

  Enum from_string(std::string_view token) const {
    for (const auto& e : entries_)
      if (token == e.name) return e.value;
    throw InvalidArgument(std::string("unknown ") + what_ + " '" + std::string(token) +
                          "' (choose one of: " + joined_names() + ")");
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.emplace_back(e.name);
    return out;
  }

  std::string joined_names(const char* separator = ", ") const {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
      if (i) out += separator;
      out += entries_[i].name;
    }
    return out;
  }

 private:
  const char* what_;
  std::array<RegistryEntry<Enum>, N> entries_;
};

}  // namespace ds
