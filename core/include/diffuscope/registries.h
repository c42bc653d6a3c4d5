// The registries shared by the CLI and the GUI. Adding a choice = one enum value + one row here
// (+ the code that implements it).
#pragma once

#include "diffuscope/registry.h"

namespace ds {

enum class Device { Cpu, Cuda };
inline constexpr Registry<Device, 2> kDevices{
    "device",
    {{{Device::Cpu, "cpu", "CPU", "run on the CPU (default)"},
      {Device::Cuda, "cuda", "CUDA GPU", "run on the first CUDA device (needs a CUDA LibTorch)"}}}};

// Colour maps of the field viewport; the GLSL side (shaders/colormaps.glsl) uses the same order.
enum class Colormap { Viridis, Magma, Grey, RedBlue };
inline constexpr Registry<Colormap, 4> kColormaps{
    "colormap",
    {{{Colormap::Viridis, "viridis", "Viridis", "perceptually uniform, default"},
      {Colormap::Magma, "magma", "Magma", "perceptually uniform, dark to light"},
      {Colormap::Grey, "grey", "Grey", "linear grey scale"},
      {Colormap::RedBlue, "redblue", "Red-Blue", "diverging, for signed density contrasts"}}}};

// How field values map to colour: linear, or log10 of the density (1 + delta for contrasts).
enum class FieldScaling { Linear, Log };
inline constexpr Registry<FieldScaling, 2> kFieldScalings{
    "scaling",
    {{{FieldScaling::Linear, "linear", "Linear", "colour linear in the value"},
      {FieldScaling::Log, "log", "Log10", "colour linear in log10 of the density"}}}};

// Where a displayed 2D field comes from. Trained emulators join this table as they arrive.
enum class FieldSource { AnalyticGrf };
inline constexpr Registry<FieldSource, 1> kFieldSources{
    "field source",
    {{{FieldSource::AnalyticGrf, "grf", "Gaussian random field",
       "exact Gaussian random field with the projected linear power spectrum"}}}};

// Summary statistics.
enum class Statistic { PowerSpectrum2d };
inline constexpr Registry<Statistic, 1> kStatistics{
    "statistic",
    {{{Statistic::PowerSpectrum2d, "pk2d", "P(k) 2D",
       "2D power spectrum, Pylians Pk_plane conventions"}}}};

}  // namespace ds
