// Pins down the strict scenario reader (reader.hpp): small YAML texts are read by small
// schemas, and the test checks the values returned, the errors (file, line, column,
// key path, message, all of them in one pass), and the resolved tree (defaults filled
// in, canonical units, and a fixed point when read again). A seeded mutation loop
// checks that no input escapes as anything but a config_exception.
#include "actors/config/reader.hpp"
#include "tests/support/temporary_folder.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using stakecast::config::bandwidth_bps;
using stakecast::config::config_error;
using stakecast::config::config_exception;
using stakecast::config::document_reader;
using stakecast::config::node_reader;
using stakecast::config::ratio;
using stakecast::config::size_bytes;
using std::chrono::nanoseconds;

namespace {

// The errors of reading `text` (labelled "s.yaml") with `schema`.
template <class Schema>
std::vector<config_error> errors_of(const std::string& text, Schema schema) {
  document_reader document = document_reader::load_string(text, "s.yaml");
  node_reader root = document.root();
  schema(root);
  return document.check();
}

std::vector<std::string> lines_of(const std::vector<config_error>& errors) {
  std::vector<std::string> lines;
  for (const config_error& error : errors)
    lines.push_back(error.to_string());
  return lines;
}

// The one error of loading `text`, which must fail to load.
config_error load_error(const std::string& text) {
  try {
    document_reader::load_string(text, "s.yaml");
  } catch (const config_exception& exception) {
    REQUIRE(exception.errors().size() == 1);
    return exception.errors().front();
  }
  FAIL("loading succeeded");
  return {};
}

struct region {
  std::string name;
  nanoseconds latency{};
  double weight = 0;
};

struct network {
  std::vector<region> regions;
  bandwidth_bps uplink;
  ratio loss;
};

enum class choker { tit_for_tat, round_robin };

// A small schema in the style the real one will have.
network read_network(node_reader& root) {
  network result;
  node_reader section = root.section("network");
  for (node_reader& item : section.list("regions", {.min = 1})) {
    region& r = result.regions.emplace_back();
    r.name = item.required<std::string>("name");
    r.latency = item.required<nanoseconds>("latency", {.min = 1ms, .max = 10s});
    r.weight = item.optional<double>("weight", 1.0, {0.0, 100.0});
  }
  result.uplink = section.optional<bandwidth_bps>("uplink", bandwidth_bps{10e6});
  result.loss = section.optional<ratio>("loss", ratio{0});
  return result;
}

constexpr const char* good_network = R"(network:
  regions:
    - name: eu
      latency: 20ms
    - name: us
      latency: 1.5s
      weight: 2
  loss: 1%
)";

} // namespace

TEST_CASE("values of every type are read with defaults applied", "[reader]") {
  document_reader document = document_reader::load_string(R"(
flag: true
count: 12
offset: -3
small: 200
share: 0.25
name: alpha
tick: 250ms
uplink: 1MB/s
block: 16KiB
loss: 5%
mode: round_robin
)",
                                                          "s.yaml");
  node_reader root = document.root();
  CHECK(root.required<bool>("flag"));
  CHECK(root.required<std::uint64_t>("count") == 12);
  CHECK(root.required<std::int64_t>("offset") == -3);
  CHECK(root.required<std::uint8_t>("small") == 200);
  CHECK(root.required<double>("share") == 0.25);
  CHECK(root.required<std::string>("name") == "alpha");
  CHECK(root.required<nanoseconds>("tick") == 250ms);
  CHECK(root.required<bandwidth_bps>("uplink").value == 8e6);
  CHECK(root.required<size_bytes>("block").value == 16384);
  CHECK(root.required<ratio>("loss").value == 0.05);
  CHECK(root.optional_choice(
            "mode", {{"tit_for_tat", choker::tit_for_tat}, {"round_robin", choker::round_robin}},
            choker::tit_for_tat) == choker::round_robin);
  CHECK(root.optional<std::uint32_t>("absent", 7) == 7);
  CHECK(root.optional<nanoseconds>("timeout", 2s) == 2s);
  CHECK_FALSE(root.maybe<std::uint64_t>("seed"));
  CHECK(root.optional_one_of("policy", {"a", "b"}, "b") == "b");
  CHECK(document.check().empty());
  CHECK_NOTHROW(document.finish());
}

TEST_CASE("nested sections and lists are read with the file's positions", "[reader]") {
  document_reader document = document_reader::load_string(good_network, "s.yaml");
  node_reader root = document.root();
  const network net = read_network(root);
  REQUIRE(net.regions.size() == 2);
  CHECK(net.regions[1].name == "us");
  CHECK(net.regions[1].latency == 1500ms);
  CHECK(net.regions[1].weight == 2);
  CHECK(net.regions[0].weight == 1);
  CHECK(net.uplink.value == 10e6);
  CHECK(net.loss.value == 0.01);
  CHECK_NOTHROW(document.finish());
}

TEST_CASE("an unknown key names file and line and column and path with a suggestion", "[reader]") {
  const auto errors = errors_of(R"(network:
  regions:
    - name: eu
      latency: 20ms
    - name: us
      latncy: 30ms
)",
                                read_network);
  CHECK(lines_of(errors) ==
        std::vector<std::string>{
            "s.yaml:5:7: network.regions[1].latency: required key is missing",
            "s.yaml:6:7: network.regions[1].latncy: unknown key 'latncy' (did you mean "
            "'latency'?)"});
}

TEST_CASE("an unknown key far from any known one lists the expected keys", "[reader]") {
  const auto errors =
      errors_of("network: {regions: [{name: eu, latency: 1s}]}\nzzz: 1\n", read_network);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "s.yaml:2:1: zzz: unknown key 'zzz'; expected 'network'");
}

TEST_CASE("every error of a file is found in one pass and sorted by position", "[reader]") {
  const auto errors = errors_of(R"(network:
  regions:
    - name: [eu]
      latency: fast
      weight: 500
      colour: red
  loss: 150%
  uplink: 10
extra: 1
)",
                                read_network);
  CHECK(lines_of(errors) ==
        std::vector<std::string>{
            "s.yaml:3:13: network.regions[0].name: expected a string, got a list",
            "s.yaml:4:16: network.regions[0].latency: expected a duration like 250ms, got "
            "'fast'",
            "s.yaml:5:15: network.regions[0].weight: must be between 0 and 100, got 500",
            "s.yaml:6:7: network.regions[0].colour: unknown key 'colour'; expected 'name', "
            "'latency' or 'weight'",
            "s.yaml:7:9: network.loss: must be between 0% and 100%, got 150%",
            "s.yaml:8:11: network.uplink: bandwidth '10' needs a unit: bps, kbps, Mbps, Gbps, "
            "Tbps, B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s or TiB/s",
            "s.yaml:9:1: extra: unknown key 'extra'; expected 'network'"});
  CHECK_THROWS_AS(
      [] {
        document_reader document = document_reader::load_string("a: 1\nb: 2\n", "s.yaml");
        document.root();
        document.finish();
      }(),
      config_exception);
}

TEST_CASE("wrong YAML types are reported once without follow-on errors", "[reader]") {
  CHECK(lines_of(errors_of("network: 5\n", read_network)) ==
        std::vector<std::string>{"s.yaml:1:10: network: expected a map, got '5'"});
  CHECK(lines_of(errors_of("network:\n  regions: {a: 1}\n", read_network)) ==
        std::vector<std::string>{"s.yaml:2:12: network.regions: expected a list, got a map"});
  CHECK(lines_of(errors_of("other: 1\n", read_network)) ==
        std::vector<std::string>{"s.yaml:1:1: network: required key is missing",
                                 "s.yaml:1:1: other: unknown key 'other'; expected 'network'"});
}

TEST_CASE("a missing required key points at its map", "[reader]") {
  const auto errors = errors_of("network:\n  loss: 1%\n", read_network);
  CHECK(lines_of(errors) ==
        std::vector<std::string>{"s.yaml:2:3: network.regions: required key is missing"});
}

TEST_CASE("bounds on values and on list lengths", "[reader]") {
  const auto errors = errors_of("a: 0\nb: 11s\nc: []\nd: 300\ne: -1\n", [](node_reader& root) {
    root.required<std::uint64_t>("a", {1, 1'000'000});
    root.required<nanoseconds>("b", {.max = 10s});
    root.list("c", {.min = 1});
    root.required<std::uint8_t>("d");
    root.required<std::uint64_t>("e");
  });
  CHECK(lines_of(errors) ==
        std::vector<std::string>{"s.yaml:1:4: a: must be between 1 and 1000000, got 0",
                                 "s.yaml:2:4: b: must be at most 10s, got 11s",
                                 "s.yaml:3:4: c: must have at least 1 item, got 0",
                                 "s.yaml:4:4: d: must be between 0 and 255, got 300",
                                 "s.yaml:5:4: e: expected a non-negative integer, got '-1'"});
}

TEST_CASE("duplicate keys that yaml-cpp accepts are errors", "[reader]") {
  const auto errors = errors_of("a: 1\nb: 2\na: 3\n", [](node_reader& root) {
    CHECK(root.required<int>("a") == 1);
    root.required<int>("b");
  });
  CHECK(lines_of(errors) ==
        std::vector<std::string>{"s.yaml:3:1: a: duplicate key 'a' (first at line 1)"});
}

TEST_CASE("non-string keys and merge keys are errors", "[reader]") {
  const auto errors = errors_of("? [a, b]\n: 1\nbase: &base {x: 1}\nderived:\n  <<: *base\n",
                                [](node_reader& root) {
                                  root.section("base").required<int>("x");
                                  root.section("derived");
                                });
  CHECK(lines_of(errors) ==
        std::vector<std::string>{
            "s.yaml:1:3: map keys must be plain strings, got a list",
            "s.yaml:5:3: derived[\"<<\"]: unknown key '<<' (YAML merge keys are not supported; "
            "repeat the keys)"});
}

TEST_CASE("an empty value is an error for a setting but an empty map for a section", "[reader]") {
  const auto errors = errors_of("a:\nb:\nc:\nd:\n", [](node_reader& root) {
    CHECK(root.optional<nanoseconds>("a", 5s) == 5s);
    root.required<std::string>("b");
    CHECK(root.optional_section("c").optional<int>("x", 3) == 3);
    CHECK(root.list("d").empty());
  });
  CHECK(lines_of(errors) ==
        std::vector<std::string>{
            "s.yaml:1:1: a: has no value; remove the key to use the default (5s)",
            "s.yaml:2:1: b: expected a string, got nothing"});
}

TEST_CASE("choices name the accepted values", "[reader]") {
  const auto errors = errors_of("a: round_robn\nb: 3\n", [](node_reader& root) {
    root.required_choice<choker>(
        "a", {{"tit_for_tat", choker::tit_for_tat}, {"round_robin", choker::round_robin}});
    root.required_one_of("b", {"x", "y", "z"});
    root.required_one_of("c", {"x"});
  });
  CHECK(lines_of(errors) ==
        std::vector<std::string>{
            "s.yaml:1:1: c: required key is missing",
            "s.yaml:1:4: a: must be one of 'tit_for_tat' or 'round_robin', got 'round_robn' "
            "(did you mean 'round_robin'?)",
            "s.yaml:2:4: b: must be one of 'x', 'y' or 'z', got '3'"});
}

TEST_CASE("maps with keys chosen by the file are read as entries", "[reader]") {
  document_reader document = document_reader::load_string(R"(latency:
  eu: {eu: 5ms, us: 80ms}
  "us east": {eu: 80ms, us: 5ms, mars: soon}
)",
                                                          "s.yaml");
  node_reader root = document.root();
  std::vector<std::string> seen;
  for (auto& [from, row] : root.section("latency").entries())
    for (auto& [to, value] : row.entries())
      seen.push_back(from + ">" + to + "=" + std::to_string(value.as<nanoseconds>().count()));
  CHECK(seen == std::vector<std::string>{"eu>eu=5000000", "eu>us=80000000", "us east>eu=80000000",
                                         "us east>us=5000000", "us east>mars=0"});
  CHECK(lines_of(document.check()) ==
        std::vector<std::string>{"s.yaml:3:40: latency[\"us east\"].mars: expected a duration "
                                 "like 250ms, got 'soon'"});
}

TEST_CASE("scalar lists and lists of lists", "[reader]") {
  document_reader document =
      document_reader::load_string("sizes: [1KiB, 2KiB]\ngrid: [[1, 2], [3]]\n", "s.yaml");
  node_reader root = document.root();
  std::uint64_t total = 0;
  for (node_reader& item : root.list("sizes"))
    total += item.as<size_bytes>().value;
  CHECK(total == 3072);
  std::vector<std::size_t> row_sizes;
  for (node_reader& row : root.list("grid"))
    row_sizes.push_back(row.items({.max = 2}).size());
  CHECK(row_sizes == std::vector<std::size_t>{2, 1});
  CHECK(document.check().empty());
}

TEST_CASE("schema errors point at the node or key they are about", "[reader]") {
  const auto errors = errors_of("min: 5\nmax: 3\n", [](node_reader& root) {
    const auto low = root.required<int>("min");
    const auto high = root.required<int>("max");
    if (low > high)
      root.error_at("max", "must not be below min (5)");
    root.error_at("absent", "is needed when max is set");
    root.error("is not a valid scenario");
  });
  CHECK(lines_of(errors) ==
        std::vector<std::string>{"s.yaml:1:1: absent: is needed when max is set",
                                 "s.yaml:1:1: is not a valid scenario",
                                 "s.yaml:2:6: max: must not be below min (5)"});
}

TEST_CASE("a key that is only tested with has() is still unknown", "[reader]") {
  const auto errors = errors_of("a: 1\n", [](node_reader& root) { CHECK(root.has("a")); });
  CHECK(lines_of(errors) ==
        std::vector<std::string>{"s.yaml:1:1: a: key 'a' is not used with these settings"});
}

TEST_CASE("parse errors and empty files and other unreadable files are errors", "[reader]") {
  const config_error syntax = load_error("a: [1, 2\nb: 3\n");
  CHECK(syntax.line == 2);
  CHECK(syntax.column == 2);
  CHECK_THAT(syntax.to_string(), Catch::StartsWith("s.yaml:2:2: invalid YAML: "));

  CHECK(load_error("").to_string() == "s.yaml: the file is empty");
  CHECK(load_error("# only a comment\n").to_string() == "s.yaml: the file is empty");
  CHECK(load_error("a: 1\n---\nb: 2\n").to_string() ==
        "s.yaml:2:1: the file holds more than one YAML document");
  // yaml-cpp 0.7's LoadAll would loop forever on this one.
  CHECK(load_error(",").to_string() == "s.yaml:1:1: invalid YAML: unexpected character");
  CHECK(load_error("- a\n- b\n").to_string() ==
        "s.yaml:1:1: expected a map of keys at the top level, got a list");
  CHECK(load_error("a: b: c\n").to_string() == "s.yaml:1:5: invalid YAML: illegal map value");
  CHECK(load_error("a: *nope\n").to_string() ==
        "s.yaml:1:4: invalid YAML: the referenced anchor is not defined");
  CHECK(load_error("a:\n\tb: 1\n").line == 2);

  CHECK(load_error(std::string(stakecast::config::config_file_bytes_max + 1, '#')).to_string() ==
        "s.yaml: the file is larger than 4MiB");

  CHECK_THROWS_WITH(document_reader::load_file("/nonexistent/s.yaml"),
                    "/nonexistent/s.yaml: cannot read the file: it does not exist");
  CHECK_THROWS_WITH(document_reader::load_file("/tmp"),
                    "/tmp: cannot read the file: it is a directory");
}

TEST_CASE("a FIFO given as a file is refused without waiting for a writer", "[reader]") {
  const stakecast::test::temporary_folder folder("reader-fifo",
                                                 stakecast::test::temporary_folder::made::yes);
  const auto fifo = folder.path / "scenario.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(
      document_reader::load_file(fifo.string()),
      fifo.string() +
          ": cannot read the file: it is not a regular file (a FIFO, socket or device)");
}

TEST_CASE("files are read from disk", "[reader]") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("stakecast_reader_test_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << good_network;
  document_reader document = document_reader::load_file(path.string());
  node_reader root = document.root();
  CHECK(read_network(root).regions.size() == 2);
  CHECK(document.file() == path.string());
  document.finish();

  std::ofstream(path) << "network:\n  regions: []\n";
  document_reader bad = document_reader::load_file(path.string());
  node_reader bad_root = bad.root();
  read_network(bad_root);
  const auto errors = bad.check();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() ==
        path.string() + ":2:12: network.regions: must have at least 1 item, got 0");

  std::ofstream(path) << std::string(stakecast::config::config_file_bytes_max + 1, '#');
  CHECK_THROWS_WITH(document_reader::load_file(path.string()),
                    path.string() + ": the file is larger than 4MiB");
  std::filesystem::remove(path);
}

TEST_CASE("the resolved tree holds every value read with defaults in canonical units", "[reader]") {
  document_reader document = document_reader::load_string(good_network, "s.yaml");
  node_reader root = document.root();
  read_network(root);
  root.optional_section("faults").optional<nanoseconds>("restart_after", 90s);
  root.optional_list("workloads");
  document.finish();
  const std::string expected = R"(network:
  regions:
    - name: eu
      latency: 20ms
      weight: 1
    - name: us
      latency: 1500ms
      weight: 2
  uplink: 10Mbps
  loss: 1%
faults:
  restart_after: 90s
workloads: [])";
  CHECK(YAML::Dump(document.resolved()) == expected);

  // Read again, the resolved scenario resolves to itself.
  document_reader again = document_reader::load_string(expected, "resolved.yaml");
  node_reader again_root = again.root();
  read_network(again_root);
  again_root.optional_section("faults").optional<nanoseconds>("restart_after", 90s);
  again_root.optional_list("workloads");
  again.finish();
  CHECK(YAML::Dump(again.resolved()) == expected);
}

TEST_CASE("strings that look like other YAML types survive the resolved tree", "[reader]") {
  document_reader document =
      document_reader::load_string("a: 'null'\nb: '~'\nc: 'true'\nd: ': x'\n", "s.yaml");
  node_reader root = document.root();
  for (const char* key : {"a", "b", "c", "d"})
    root.required<std::string>(key);
  document.finish();
  document_reader again = document_reader::load_string(YAML::Dump(document.resolved()), "r");
  node_reader again_root = again.root();
  CHECK(again_root.required<std::string>("a") == "null");
  CHECK(again_root.required<std::string>("b") == "~");
  CHECK(again_root.required<std::string>("c") == "true");
  CHECK(again_root.required<std::string>("d") == ": x");
  again.finish();
}

TEST_CASE("errors beyond the maximum are counted but not kept", "[reader]") {
  std::string text;
  for (int i = 0; i < 250; ++i)
    text += "k" + std::to_string(i) + ": 1\n";
  const auto errors = errors_of(text, [](node_reader&) {});
  REQUIRE(errors.size() == stakecast::config::config_errors_max + 1);
  CHECK(errors.back().to_string() == "s.yaml: 150 more errors not shown");
}

TEST_CASE("no input escapes as anything but a config_exception", "[reader]") {
  const std::string base = std::string(good_network) + "faults: {at: [1s, 2s]}\n";
  const std::string alphabet = ":-[]{}\"'&*!|>%@`#,?\n\t \\0aZ9.~";
  std::mt19937 random(7); // seeded: a failure replays
  const auto read_all = [](const std::string& text) {
    document_reader document = document_reader::load_string(text, "fuzz.yaml");
    node_reader root = document.root();
    read_network(root);
    for (node_reader& at : root.optional_section("faults").optional_list("at"))
      at.as<nanoseconds>();
    document.finish();
  };
  int failures = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int edit = 0; edit < edits; ++edit) {
      const std::size_t at = random() % (text.size() + 1);
      const char c = alphabet[random() % alphabet.size()];
      if (random() % 2 == 0 && at < text.size())
        text[at] = c;
      else
        text.insert(at, 1, c);
    }
    try {
      read_all(text);
    } catch (const config_exception&) {
      ++failures;
    }
  }
  CHECK(failures > 0);
  // Deep nesting is refused by yaml-cpp's depth guard, not by the stack.
  CHECK_THROWS_AS(read_all("a: " + std::string(100'000, '[')), config_exception);
  CHECK_THROWS_AS(read_all(std::string("a: \0b", 5)), config_exception);
}

TEST_CASE("a required choice with an empty value is an error and not a crash", "[reader]") {
  auto document = document_reader::load_string("mode:\n", "choice.yaml");
  auto root = document.root();
  CHECK(root.required_one_of("mode", {"fast", "slow"}).empty());
  auto errors = document.check();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string().find("mode: needs a value: one of") != std::string::npos);
}
