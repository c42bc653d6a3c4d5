#include "report_internal.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"

namespace ds::report_detail {

void write_json(const std::string& path, const Json& j) {
  write_file_atomically(path, [&](std::ostream& out) { out << j.dump(1) << "\n"; });
}

bool read_json(const std::string& path, Json& j) {
  std::ifstream in(path);
  if (!in) return false;
  try {
    j = Json::parse(in);
  } catch (const std::exception& e) {
    throw FileError(path, std::string("malformed JSON: ") + e.what());
  }
  return true;
}

FigureBuilder::FigureBuilder(std::string name, std::string title, std::string caption)
    : name_(std::move(name)), title_(std::move(title)), caption_(std::move(caption)) {}

std::string FigureBuilder::column(const std::string& name, const std::vector<double>& values) {
  for (std::size_t i = 0; i < column_names_.size(); ++i)
    if (column_names_[i] == name) {
      columns_[i] = values;
      return name;
    }
  column_names_.push_back(name);
  columns_.push_back(values);
  return name;
}

void FigureBuilder::panel(const std::string& title, const std::string& x_label,
                          const std::string& y_label, bool log_x, bool log_y) {
  panels_.push_back(Json{{"title", title},
                         {"x_label", x_label},
                         {"y_label", y_label},
                         {"log_x", log_x},
                         {"log_y", log_y},
                         {"series", Json::array()}});
}

void FigureBuilder::series(const std::string& label, const std::string& style, const std::string& x,
                           const std::string& y, int color, const std::string& y_lo,
                           const std::string& y_hi) {
  Json s{{"label", label}, {"style", style}, {"x", x}, {"y", y}, {"color", color}};
  if (!y_lo.empty()) s["y_lo"] = y_lo;
  if (!y_hi.empty()) s["y_hi"] = y_hi;
  panels_.back()["series"].push_back(s);
}

void FigureBuilder::map(const std::string& label, const std::string& x, const std::string& y,
                        const std::string& z, int size, double z_lo, double z_hi) {
  panels_.back()["series"].push_back(Json{{"label", label},
                                          {"style", "map"},
                                          {"x", x},
                                          {"y", y},
                                          {"z", z},
                                          {"size", size},
                                          {"z_range", {z_lo, z_hi}},
                                          {"color", 0}});
}

void FigureBuilder::legend(const std::string& corner) {
  panels_.back()["legend"] = corner;
}

void FigureBuilder::panel_range(double x_lo, double x_hi, double y_lo, double y_hi) {
  panels_.back()["x_range"] = {x_lo, x_hi};
  panels_.back()["y_range"] = {y_lo, y_hi};
}

Json FigureBuilder::finish(const std::string& out_dir) const {
  const std::string csv = "csv/" + name_ + ".csv";
  write_file_atomically((std::filesystem::path(out_dir) / csv).string(), [&](std::ostream& out) {
    for (std::size_t c = 0; c < column_names_.size(); ++c)
      out << (c ? "," : "") << column_names_[c];
    out << "\n";
    std::size_t rows = 0;
    for (const auto& col : columns_) rows = std::max(rows, col.size());
    char buf[64];
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        if (c) out << ",";
        if (r < columns_[c].size()) {
          const double v = columns_[c][r];
          if (std::isnan(v)) {
            out << "nan";
          } else {
            std::snprintf(buf, sizeof buf, "%.17g", v);
            out << buf;
          }
        }
      }
      out << "\n";
    }
  });
  return Json{{"name", name_},
              {"title", title_},
              {"caption", caption_},
              {"csv", csv},
              {"png", "figures/" + name_ + ".png"},
              {"pdf", "figures/" + name_ + ".pdf"},
              {"layout", layout_},
              {"columns", column_names_},
              {"panels", panels_}};
}

PowerSpectrum field_spectrum(const float* values, int n, double box, FieldKind kind) {
  Field2D field;
  field.n = n;
  field.box_size = box;
  field.kind = kind;
  field.values.assign(values, values + std::size_t(n) * n);
  return cut_at_nyquist(power_spectrum_2d(field), n, box);
}

void histogram_values(const float* values, std::size_t count, FieldKind kind,
                      std::vector<double>& out) {
  for (std::size_t i = 0; i < count; ++i) {
    const double v = values[i];
    if (kind == FieldKind::Density) {
      if (v > 0) out.push_back(std::log10(v));
    } else {
      out.push_back(v);
    }
  }
}

std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace ds::report_detail
