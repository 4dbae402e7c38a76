#include "analysis/commands.hpp"

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "analysis/report.hpp"

namespace stakecast::analysis {

void add_commands(CLI::App& app, int& exit_code) {
  auto folder = std::make_shared<std::string>();
  auto* report = app.add_subcommand(
      "report", "Write tables and plots of a run or sweep folder to DIR/report/");
  report
      ->add_option("folder", *folder,
                   "A run folder (stakecast sim) or sweep folder (stakecast sweep)")
      ->required();
  report->callback([folder, &exit_code] {
    const report_result result = write_report(*folder);
    if (result.exit_code != 0) {
      fmt::print(stderr, "error: {}\n", result.error);
      exit_code = result.exit_code;
      return;
    }
    fmt::print("report: {} ({} plots)\n", result.index.string(), result.plots);
    exit_code = 0;
  });
}

} // namespace stakecast::analysis
