// Pins down the statistics of the sweep report: the 95% interval is Student's t with
// n - 1 degrees of freedom (checked against hand-computed values), a single value has
// no interval, and CSV reading drops a torn last line but refuses a short row inside.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "analysis/report.hpp"

using namespace stakecast::analysis;

TEST_CASE("The confidence interval is Student t over n minus 1 degrees of freedom", "[report]") {
  CHECK(student_t_95(1) == Approx(12.706));
  CHECK(student_t_95(30) == Approx(2.042));
  CHECK(student_t_95(1000) == Approx(1.960));
  const interval three = mean_interval({1.0, 2.0, 3.0});
  CHECK(three.mean == Approx(2.0));
  CHECK(three.half_width == Approx(4.303 / std::sqrt(3.0)));
  const interval one = mean_interval({5.0});
  CHECK(one.mean == Approx(5.0));
  CHECK(one.half_width == 0.0);
}

TEST_CASE("CSV reading drops a torn last line and refuses a short row inside", "[report]") {
  const auto file = std::filesystem::temp_directory_path() /
                    ("stakecast-report-" + std::to_string(::getpid()) + ".csv");
  std::ofstream(file) << "a,b\n1,\"x,y\"\n2,3\n4";
  std::string error;
  auto rows = read_csv(file, error);
  CHECK(error.empty());
  REQUIRE(rows.size() == 3);
  CHECK(rows[1][1] == "x,y");
  std::ofstream(file) << "a,b\n1\n2,3\n";
  rows = read_csv(file, error);
  CHECK(error.find(":2: expected 2 fields, got 1") != std::string::npos);
  std::filesystem::remove(file);
}
