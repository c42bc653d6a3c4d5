// Chain files (../shared/reference/formats.md): GetDist plain text, ArviZ InferenceData as
// HDF5/netCDF4, and CSV; writers (every file written to a temporary and renamed, so a crash never
// leaves half a file) and readers that rebuild ds::Chains, so the GUI and `diagnose` can reopen
// what the samplers wrote.
//
// Readers throw FileError naming the file and the problem (missing, ragged rows, non-finite
// draws, inconsistent shapes); writers throw InvalidArgument for chains that cannot be written
// (sizes that do not match chains x draws x parameters, non-finite draws) and FileError for IO.
#pragma once

#include <string>

#include "diffuscope/infer/chains/chains.h"

namespace ds {

// Throws InvalidArgument unless every array of `chains` has the size its shape implies (values:
// chains x draws x parameters; each non-empty sample statistic: chains x draws; labels and
// ranges empty or one per parameter), names are unique and non-empty, and the draws are finite.
void validate_chains(const Chains& chains);

// --- GetDist ---------------------------------------------------------------------------------
// Parameter names in GetDist files. Diffuscope's names map to GetDist-friendly ones (no
// punctuation GetDist's parser dislikes) and back:
//   Omega_m <-> omegam  (\Omega_m),   sigma_8 <-> sigma8  (\sigma_8),
//   Omega_b <-> omegab  (\Omega_b),   h       <-> h       (h),
//   n_s     <-> ns      (n_s),        A_SN1.. <-> A_SN1.. (A_{\rm SN1}, CAMELS feedback).
// Any other name is kept, with characters other than letters, digits and '_' replaced by '_'.
std::string getdist_name(const std::string& name);
std::string name_from_getdist(const std::string& getdist_name);
// The LaTeX label of a name (Chains::labels wins when given): the table above, else the name.
std::string default_label(const std::string& name);

// Writes ROOT_1.txt ... ROOT_C.txt (rows `weight -ln(posterior) p1 p2 ...`, weight 1, numbers
// in shortest round-trip form; -ln(posterior) = -lp, 0 when the chains carry no lp),
// ROOT.paramnames (`name  LaTeX`), ROOT.ranges (`name  low  high`, N when unbounded; written when
// Chains::ranges is given) and ROOT.properties.ini (burn_removed=T, plus sampler and seed).
// Stale ROOT_k.txt for k > C from an earlier run are removed so that a reader sees C chains.
void write_getdist(const std::string& root, const Chains& chains);

// Reads ROOT_1.txt, ROOT_2.txt, ... (consecutive), else ROOT.txt; ROOT may also be given as one
// of those .txt files. Lines starting with # are comments. Integer weights > 1 (the
// multiplicities of Metropolis samplers such as CosmoMC / Cobaya) are expanded into repeated
// draws; fractional weights are rejected (importance weights are not a Markov chain). All chains
// must have the same length. ROOT.paramnames is optional (names param1, param2, ... without it;
// a trailing * marks a derived parameter and is dropped); ROOT.ranges is optional (unbounded).
Chains read_getdist(const std::string& root_or_file);

// --- ArviZ InferenceData (HDF5 written as netCDF4) -------------------------------------------
// Groups /posterior (one float64 [chain, draw] variable per parameter, named as Chains::names,
// with attributes `label` (LaTeX) and `prior_range` [low, high]) and /sample_stats (those of lp,
// acceptance_rate, step_size, n_steps, tree_depth, diverging, energy, energy_error that are
// present; diverging as int8 with dtype = "bool"). Each group holds int64 coordinate variables
// `chain` and `draw` that are HDF5 dimension scales, and every variable is attached to them, so
// xarray.open_dataset(path, group="posterior") and az.from_netcdf read the file. Links and
// attributes track creation order, as netCDF-4 requires of files it may also modify. The file and
// the groups carry created_at (ISO 8601, UTC), inference_library = "diffuscope" and
// inference_library_version; the file also sampler, seed and settings_json. A parameter named
// `chain` or `draw`, or containing '/', is rejected (InvalidArgument).
void write_arviz_netcdf(const std::string& path, const Chains& chains);

// Reads a file of the layout above (ours, or ArviZ's own to_netcdf output with scalar variables).
// Variables with extra dimensions are skipped.
Chains read_arviz_netcdf(const std::string& path);

// --- CSV -------------------------------------------------------------------------------------
// Header `chain,draw,<names>,<sample stats present>` (stats in the order lp, acceptance_rate,
// step_size, n_steps, tree_depth, diverging, energy, energy_error), one row per draw, chain-major.
// Non-finite sample statistics (a diverged energy_error) are written as nan / inf / -inf.
void write_chains_csv(const std::string& path, const Chains& chains);

// Reads the layout above; rows may come in any order but every (chain, draw) of the rectangle
// must appear exactly once. Columns other than chain, draw and the sample-stat names are
// parameters.
// A chain file in progress (chain_progress.h: its first line starts with
// `# diffuscope chains in progress`) is read as its writer left it, running or killed: a last
// line without its newline or with fewer fields is ignored, and the chains are cut to the largest
// number of draws that every chain has whole (the writer appends one row per chain per kept
// iteration); sampler, seed and number of chains come from the first line. Fewer than one draw per
// chain is a FileError ("no complete draw yet"). Any other CSV file stays strict: a torn row is an
// error.
Chains read_chains_csv(const std::string& path);

// Dispatches on the argument: *.nc, *.h5, *.hdf5, *.nc4 -> ArviZ; *.csv -> CSV; anything else is
// a GetDist root (or one of its .txt chain files).
Chains read_chains(const std::string& path_or_root);

}  // namespace ds
