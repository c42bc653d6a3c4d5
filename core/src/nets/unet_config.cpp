#include "diffuscope/nets/unet_config.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diffuscope/error.h"

namespace ds {

namespace {

constexpr int kMaxWidth = 8192;  // channels of any layer

void require(bool ok, const std::string& what) {
  if (!ok) throw InvalidArgument("U-Net configuration: " + what);
}

// Every integer of a U-Net configuration is a size; beyond this one is absurd (and an int
// product of two of them could overflow), so it is refused before a network is built.
constexpr std::int64_t kMaxSize = 65536;

int read_int(const nlohmann::json& v, const std::string& key) {
  if (v.is_null()) return 0;  // Python None = "use the default"
  require(v.is_number_integer(), "'" + key + "' must be an integer");
  require(v.is_number_unsigned()
              ? v.get<std::uint64_t>() <= std::uint64_t(kMaxSize)
              : v.get<std::int64_t>() >= -kMaxSize && v.get<std::int64_t>() <= kMaxSize,
          "'" + key + "' = " + v.dump() + " is absurdly large (at most " +
              std::to_string(kMaxSize) + ")");
  return v.get<int>();
}

bool read_bool(const nlohmann::json& v, const std::string& key) {
  require(v.is_boolean(), "'" + key + "' must be true or false");
  return v.get<bool>();
}

}  // namespace

void UnetConfig::validate() const {
  require(dim > 0, "dim must be positive");
  require(!dim_mults.empty() && dim_mults.size() <= 8, "dim_mults must have 1 to 8 levels");
  require(channels > 0 && conditional_dim > 0, "channels and conditional_dim must be positive");
  require(resnet_block_groups > 0, "resnet_block_groups must be positive");
  require(dim <= kMaxWidth,
          "dim = " + std::to_string(dim) + " exceeds " + std::to_string(kMaxWidth));
  for (int m : dim_mults) {
    require(m > 0, "dim_mults must be positive");
    // One convolution of width w holds 9 w^2 weights: 8192 is already 600 million.
    require(m <= kMaxWidth / dim, "width dim * " + std::to_string(m) + " exceeds " +
                                      std::to_string(kMaxWidth) + " channels");
    require((dim * m) % resnet_block_groups == 0,
            "width " + std::to_string(dim * m) + " is not divisible by the " +
                std::to_string(resnet_block_groups) + " GroupNorm groups");
  }
  require(dim % 2 == 0 && dim >= 4, "dim must be even and at least 4 (sinusoidal time features)");
  require(dim_mults[0] == 1,
          "the first multiplier must be 1 (the final block expects dim channels)");
  require(effective_init_dim() > 0 && effective_time_dim() > 0 && effective_out_dim() > 0,
          "init_dim, time_embed_dim and out_dim must be positive");
  require(channels <= kMaxWidth && conditional_dim <= kMaxWidth &&
              effective_init_dim() <= kMaxWidth && effective_time_dim() <= 4 * kMaxWidth &&
              effective_out_dim() <= kMaxWidth && resnet_block_groups <= kMaxWidth,
          "channels, conditional_dim, init_dim, out_dim and resnet_block_groups must be at most " +
              std::to_string(kMaxWidth) + ", time_embed_dim at most " +
              std::to_string(4 * kMaxWidth));
}

std::string UnetConfig::to_json() const {
  nlohmann::json j = {{"dim", dim},
                      {"dim_mults", dim_mults},
                      {"channels", channels},
                      {"init_conv", init_conv},
                      {"conditional_dim", conditional_dim},
                      {"use_cond_dim_for_block", use_cond_dim_for_block},
                      {"non_linear_conditional_embedding", non_linear_conditional_embedding},
                      {"circular_convolution", circular_convolution},
                      {"resnet_block_groups", resnet_block_groups}};
  if (init_dim > 0) j["init_dim"] = init_dim;
  if (out_dim > 0) j["out_dim"] = out_dim;
  if (time_embed_dim > 0) j["time_embed_dim"] = time_embed_dim;
  if (periodic_upsampling) j["periodic_upsampling"] = true;  // the authors' code lacks this key
  return j.dump();
}

UnetConfig UnetConfig::from_json(const std::string& model_kwargs_json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(model_kwargs_json);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("U-Net configuration is not JSON: ") + e.what());
  }
  require(j.is_object(), "model_kwargs must be an object");
  UnetConfig c;
  for (const auto& [key, v] : j.items()) {
    if (key == "dim")
      c.dim = read_int(v, key);
    else if (key == "dim_mults") {
      require(v.is_array(), "'dim_mults' must be a list");
      c.dim_mults.clear();
      for (const auto& m : v) c.dim_mults.push_back(read_int(m, key));
    } else if (key == "channels")
      c.channels = read_int(v, key);
    else if (key == "init_conv")
      c.init_conv = read_bool(v, key);
    else if (key == "init_dim")
      c.init_dim = read_int(v, key);
    else if (key == "out_dim")
      c.out_dim = read_int(v, key);
    else if (key == "conditional_dim")
      c.conditional_dim = read_int(v, key);
    else if (key == "use_cond_dim_for_block")
      c.use_cond_dim_for_block = read_bool(v, key);
    else if (key == "time_embed_dim")
      c.time_embed_dim = read_int(v, key);
    else if (key == "non_linear_conditional_embedding")
      c.non_linear_conditional_embedding = read_bool(v, key);
    else if (key == "circular_convolution")
      c.circular_convolution = read_bool(v, key);
    else if (key == "resnet_block_groups")
      c.resnet_block_groups = read_int(v, key);
    else if (key == "periodic_upsampling")
      c.periodic_upsampling = read_bool(v, key);
    else if (key == "image_size")
      continue;  // only used by pk_embedding
    else if (key == "pk_embedding" || key == "base2fourier")
      require(v.is_boolean() && !v.get<bool>(), "'" + key + "' is not supported");
    else if (key == "b2fstart" || key == "b2fend" || key == "b2fstep")
      continue;  // only used by base2fourier
    else
      require(false, "unknown key '" + key + "'");
  }
  c.validate();
  return c;
}

std::string UnetConfig::describe() const {
  std::ostringstream s;
  s << "UnetExplicitConditional(dim=" << dim << ", dim_mults=(";
  for (std::size_t i = 0; i < dim_mults.size(); ++i) s << (i ? ", " : "") << dim_mults[i];
  s << "), channels=" << channels << ", conditional_dim=" << conditional_dim
    << ", init_conv=" << (init_conv ? "true" : "false")
    << ", circular_convolution=" << (circular_convolution ? "true" : "false")
    << ", block_conditioning=" << (use_cond_dim_for_block ? "theta" : "embedding")
    << (periodic_upsampling ? ", periodic_upsampling=true" : "")
    << ", time_dim=" << effective_time_dim() << ", groups=" << resnet_block_groups << ")";
  return s.str();
}

}  // namespace ds
