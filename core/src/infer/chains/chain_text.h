// Number formatting and line splitting shared by the GetDist and CSV chain files (private to
// core/infer). Locale-independent: std::to_chars / std::from_chars.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ds::detail {

// Shortest decimal form that reads back to the same double ("nan", "inf", "-inf" when not finite).
std::string chain_format_number(double value);

// Parses the whole token as a double (a leading '+' allowed; nan/inf accepted, in any case).
// Returns false when the token is not a number.
bool chain_parse_number(std::string_view token, double& value);

// Tokens separated by runs of spaces or tabs.
std::vector<std::string_view> chain_split_whitespace(std::string_view line);
// Fields separated by one character (empty fields kept).
std::vector<std::string_view> chain_split(std::string_view line, char separator);

// The line without a trailing '\r' (files written on Windows) and surrounding blanks.
std::string_view chain_trim(std::string_view line);

}  // namespace ds::detail
