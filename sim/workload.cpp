#include "sim/workload.hpp"

#include <map>

namespace stakecast::sim {

namespace {

std::map<std::string, workload_factory, std::less<>>& registry() {
  static std::map<std::string, workload_factory, std::less<>> workloads;
  return workloads;
}

} // namespace

workload_registration::workload_registration(std::string name, workload_factory factory) {
  registry().emplace(std::move(name), std::move(factory));
}

const workload_factory* find_workload(std::string_view name) {
  auto found = registry().find(name);
  return found == registry().end() ? nullptr : &found->second;
}

std::vector<std::string> workload_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry())
    names.push_back(name);
  return names;
}

} // namespace stakecast::sim
