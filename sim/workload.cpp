#include "sim/workload.hpp"

#include <cmath>

#include <map>

#include <fmt/format.h>

#include "sim/histogram.hpp"

namespace stakecast::sim {

namespace {

std::map<std::string, workload_kind, std::less<>>& registry() {
  static std::map<std::string, workload_kind, std::less<>> workloads;
  return workloads;
}

} // namespace

workload_registration::workload_registration(std::string name, workload_factory factory,
                                             world::message_set handles) {
  registry().emplace(std::move(name), workload_kind{std::move(factory), handles});
}

const workload_kind* find_workload(std::string_view name) {
  auto found = registry().find(name);
  return found == registry().end() ? nullptr : &found->second;
}

std::vector<std::string> workload_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry())
    names.push_back(name);
  return names;
}

nlohmann::ordered_json quantiles_json(const histogram* values, std::initializer_list<double> qs) {
  nlohmann::ordered_json result = nlohmann::ordered_json::object();
  for (double q : qs)
    result[fmt::format("p{}", std::lround(q * 100))] = values != nullptr ? values->quantile(q) : 0.0;
  result["count"] = values != nullptr ? values->count() : 0;
  return result;
}

} // namespace stakecast::sim
