#include "diffuscope/nets/point_net_config.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diffuscope/error.h"

namespace ds {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw InvalidArgument("point network configuration: " + what);
}

// Every integer of a point network configuration is a size or a count; beyond this one is
// absurd (a gigantic allocation when the network is built), so it is refused here.
constexpr std::int64_t kMaxSize = 65536;

int read_int(const nlohmann::json& v, const std::string& key) {
  require(v.is_number_integer(), "'" + key + "' must be an integer, got " + v.dump());
  require(v.is_number_unsigned()
              ? v.get<std::uint64_t>() <= std::uint64_t(kMaxSize)
              : v.get<std::int64_t>() >= -kMaxSize && v.get<std::int64_t>() <= kMaxSize,
          "'" + key + "' = " + v.dump() + " is absurdly large (at most " +
              std::to_string(kMaxSize) + ")");
  return v.get<int>();
}

double read_number(const nlohmann::json& v, const std::string& key) {
  require(v.is_number(), "'" + key + "' must be a number, got " + v.dump());
  return v.get<double>();
}

std::array<double, 3> read_vector3(const nlohmann::json& v, const std::string& key) {
  require(v.is_array() && v.size() == 3, "'" + key + "' must be a list of 3 numbers");
  return {read_number(v[0], key), read_number(v[1], key), read_number(v[2], key)};
}

void require_positive(int value, const char* name) {
  require(value > 0, std::string(name) + " = " + std::to_string(value) + " must be positive");
}

}  // namespace

const char* point_net_kind_name(PointNetKind kind) {
  return kind == PointNetKind::Gnn ? "gnn" : "transformer";
}

void PointNetConfig::validate() const {
  require(n_features >= 3,
          "n_features = " + std::to_string(n_features) + " must be at least 3 (x y z come first)");
  require_positive(n_params, "n_params");
  // Sinusoidal features: half sines, half cosines, frequencies spaced over half - 1 steps.
  require(time_embedding >= 4 && time_embedding % 2 == 0,
          "time_embedding = " + std::to_string(time_embedding) + " must be even and at least 4");
  require_positive(theta_embedding, "theta_embedding");
  require(!cond_mlp.empty(), "cond_mlp must have at least one width");
  for (int w : cond_mlp) require_positive(w, "a cond_mlp width");
  if (kind == PointNetKind::Gnn) {
    require(k >= 2, "k = " + std::to_string(k) +
                        " must be at least 2 (the point itself and one "
                        "neighbour)");
    require_positive(hidden, "hidden");
    require(mlp_layers >= 0, "mlp_layers = " + std::to_string(mlp_layers) + " must be >= 0");
    require_positive(latent, "latent");
    require_positive(message_passing, "message_passing");
  } else {
    require_positive(d_model, "d_model");
    require_positive(heads, "heads");
    require(d_model % heads == 0, "d_model = " + std::to_string(d_model) +
                                      " is not divisible by heads = " + std::to_string(heads));
    require_positive(layers, "layers");
    require_positive(mlp_width, "mlp_width");
    require(inducing_points >= 0,
            "inducing_points = " + std::to_string(inducing_points) + " must be >= 0");
  }
  require(std::isfinite(box_size) && box_size > 0, "box_size must be positive and finite");
  for (int d = 0; d < 3; ++d) {
    require(std::isfinite(position_mean[d]), "position_mean must be finite");
    require(std::isfinite(position_std[d]) && position_std[d] > 0,
            "position_std must be positive and finite");
  }
}

std::string PointNetConfig::to_json() const {
  nlohmann::json j = {{"kind", point_net_kind_name(kind)},
                      {"n_features", n_features},
                      {"n_params", n_params},
                      {"time_embedding", time_embedding},
                      {"theta_embedding", theta_embedding},
                      {"cond_mlp", cond_mlp},
                      {"k", k},
                      {"hidden", hidden},
                      {"mlp_layers", mlp_layers},
                      {"latent", latent},
                      {"message_passing", message_passing},
                      {"d_model", d_model},
                      {"heads", heads},
                      {"layers", layers},
                      {"mlp_width", mlp_width},
                      {"inducing_points", inducing_points},
                      {"absolute_positions", absolute_positions},
                      {"box_size", box_size},
                      {"position_mean", position_mean},
                      {"position_std", position_std}};
  return j.dump();
}

PointNetConfig PointNetConfig::from_json(const std::string& json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("point network configuration is not JSON: ") + e.what());
  }
  require(j.is_object(), "must be a JSON object");
  PointNetConfig c;
  // Missing keys keep their defaults, so that configurations written before a field existed load.
  for (const auto& [key, v] : j.items()) {
    if (key == "kind") {
      require(v.is_string(), "'kind' must be \"gnn\" or \"transformer\"");
      const auto name = v.get<std::string>();
      if (name == "gnn")
        c.kind = PointNetKind::Gnn;
      else if (name == "transformer")
        c.kind = PointNetKind::Transformer;
      else
        require(false, "unknown kind '" + name + "' (expected \"gnn\" or \"transformer\")");
    } else if (key == "n_features") {
      c.n_features = read_int(v, key);
    } else if (key == "n_params") {
      c.n_params = read_int(v, key);
    } else if (key == "time_embedding") {
      c.time_embedding = read_int(v, key);
    } else if (key == "theta_embedding") {
      c.theta_embedding = read_int(v, key);
    } else if (key == "cond_mlp") {
      require(v.is_array(), "'cond_mlp' must be a list of integers");
      c.cond_mlp.clear();
      for (const auto& w : v) c.cond_mlp.push_back(read_int(w, key));
    } else if (key == "k") {
      c.k = read_int(v, key);
    } else if (key == "hidden") {
      c.hidden = read_int(v, key);
    } else if (key == "mlp_layers") {
      c.mlp_layers = read_int(v, key);
    } else if (key == "latent") {
      c.latent = read_int(v, key);
    } else if (key == "message_passing") {
      c.message_passing = read_int(v, key);
    } else if (key == "d_model") {
      c.d_model = read_int(v, key);
    } else if (key == "heads") {
      c.heads = read_int(v, key);
    } else if (key == "layers") {
      c.layers = read_int(v, key);
    } else if (key == "mlp_width") {
      c.mlp_width = read_int(v, key);
    } else if (key == "absolute_positions") {
      if (!v.is_boolean())
        throw InvalidArgument(
            "point network configuration: \"absolute_positions\" must be true or false");
      c.absolute_positions = v.get<bool>();
    } else if (key == "inducing_points") {
      c.inducing_points = read_int(v, key);
    } else if (key == "box_size") {
      c.box_size = read_number(v, key);
    } else if (key == "position_mean") {
      c.position_mean = read_vector3(v, key);
    } else if (key == "position_std") {
      c.position_std = read_vector3(v, key);
    } else {
      require(false, "unknown key '" + key + "'");
    }
  }
  c.validate();
  return c;
}

std::string PointNetConfig::describe() const {
  std::ostringstream s;
  auto widths = [&] {
    for (std::size_t i = 0; i < cond_mlp.size(); ++i) s << (i ? "," : "") << cond_mlp[i];
  };
  if (kind == PointNetKind::Gnn) {
    s << "PointGnn(F=" << n_features << ", P=" << n_params << ", k=" << k << ", hidden=" << hidden
      << "x" << mlp_layers << ", latent=" << latent << ", rounds=" << message_passing
      << (absolute_positions ? "" : ", relative positions only");
  } else {
    s << "PointTransformer(F=" << n_features << ", P=" << n_params << ", d_model=" << d_model
      << ", heads=" << heads << ", layers=" << layers << ", mlp_width=" << mlp_width;
    if (inducing_points > 0) s << ", inducing_points=" << inducing_points;
  }
  s << ", cond=[";
  widths();
  s << "], box=" << box_size << ")";
  return s.str();
}

}  // namespace ds
