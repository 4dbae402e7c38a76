// Pins how the gateway reads a Range header (http_range.hpp): each form of byte range
// against resources of size 1000, 1 and 0, clamping at the end, suffixes longer than
// the resource, several ranges (the first satisfiable one wins), numbers past 2^64,
// and every malformed header ignored (whole resource), by comparing resolve_range's
// result with the interval expected.
#include "node/http_range.hpp"

#include <catch2/catch.hpp>

using namespace stakecast::node;

namespace {

served_range whole(std::uint64_t size) {
  return {range_kind::whole, 0, size};
}
served_range partial(std::uint64_t first, std::uint64_t length) {
  return {range_kind::partial, first, length};
}
const served_range unsatisfiable{range_kind::unsatisfiable, 0, 0};

} // namespace

TEST_CASE("no Range header serves the whole resource", "[gateway]") {
  CHECK(resolve_range("", 1000) == whole(1000));
  CHECK(resolve_range("   ", 1000) == whole(1000));
  CHECK(resolve_range("", 0) == whole(0));
}

TEST_CASE("a closed range is served as asked and clamped at the end", "[gateway]") {
  CHECK(resolve_range("bytes=100-199", 1000) == partial(100, 100));
  CHECK(resolve_range("bytes=0-0", 1000) == partial(0, 1));
  CHECK(resolve_range("bytes=999-999", 1000) == partial(999, 1));
  CHECK(resolve_range("bytes=900-5000", 1000) == partial(900, 100));
  CHECK(resolve_range("bytes=0-999", 1000) == partial(0, 1000));
  CHECK(resolve_range("bytes=0-0", 1) == partial(0, 1));
  CHECK(resolve_range("bytes=100-199", 1000).last_byte() == 199);
}

TEST_CASE("an open range runs to the end", "[gateway]") {
  CHECK(resolve_range("bytes=1000-", 3000) == partial(1000, 2000));
  CHECK(resolve_range("bytes=0-", 1000) == partial(0, 1000));
  CHECK(resolve_range("bytes=999-", 1000) == partial(999, 1));
}

TEST_CASE("a suffix range is the last bytes or the whole when longer", "[gateway]") {
  CHECK(resolve_range("bytes=-500", 1000) == partial(500, 500));
  CHECK(resolve_range("bytes=-1", 1000) == partial(999, 1));
  CHECK(resolve_range("bytes=-1000", 1000) == partial(0, 1000));
  CHECK(resolve_range("bytes=-5000", 1000) == partial(0, 1000));
}

TEST_CASE("ranges past the end are unsatisfiable", "[gateway]") {
  CHECK(resolve_range("bytes=1000-", 1000) == unsatisfiable);
  CHECK(resolve_range("bytes=99999999-", 1000) == unsatisfiable);
  CHECK(resolve_range("bytes=1000-2000", 1000) == unsatisfiable);
  CHECK(resolve_range("bytes=-0", 1000) == unsatisfiable);
}

TEST_CASE("every range of an empty resource is unsatisfiable", "[gateway]") {
  CHECK(resolve_range("bytes=0-", 0) == unsatisfiable);
  CHECK(resolve_range("bytes=0-0", 0) == unsatisfiable);
  CHECK(resolve_range("bytes=-10", 0) == unsatisfiable);
}

TEST_CASE("numbers past 64 bits saturate instead of wrapping", "[gateway]") {
  // 2^64 + 5 would wrap to 5 without saturation.
  CHECK(resolve_range("bytes=18446744073709551621-", 1000) == unsatisfiable);
  CHECK(resolve_range("bytes=99999999999999999999999999999999-", 1000) == unsatisfiable);
  CHECK(resolve_range("bytes=10-99999999999999999999999999999999", 1000) == partial(10, 990));
  CHECK(resolve_range("bytes=-99999999999999999999999999999999", 1000) == partial(0, 1000));
  CHECK(resolve_range("bytes=18446744073709551615-18446744073709551615", 1000) == unsatisfiable);
  const std::uint64_t huge = 18446744073709551615ULL;
  CHECK(resolve_range("bytes=0-", huge) == partial(0, huge));
  CHECK(resolve_range("bytes=-18446744073709551615", huge) == partial(0, huge));
}

TEST_CASE("only the first satisfiable of several ranges is served", "[gateway]") {
  CHECK(resolve_range("bytes=0-1,5-6", 1000) == partial(0, 2));
  CHECK(resolve_range("bytes=5000-6000, 10-19", 1000) == partial(10, 10));
  CHECK(resolve_range("bytes=, 10-19 ,", 1000) == partial(10, 10));
  CHECK(resolve_range("bytes=5000-,6000-", 1000) == unsatisfiable);
}

TEST_CASE("a malformed Range header is ignored", "[gateway]") {
  for (const char* header :
       {"bytes=5-2", "bytes", "bytes=", "bytes=,", "bytes=-", "bytes=a-b", "bytes=1-2-3",
        "bytes=--5", "bytes=5", "bytes=0-1,x", "bytes=0-1,5-2", "bytes=+1-2", "bytes=1 -2",
        "items=0-1", "bytesx=0-1", "=0-1", "bytes=0x10-20"}) {
    INFO(header);
    CHECK(resolve_range(header, 1000) == whole(1000));
  }
}

TEST_CASE("the unit is case-insensitive and spaces around ranges are tolerated", "[gateway]") {
  CHECK(resolve_range("Bytes=0-9", 1000) == partial(0, 10));
  CHECK(resolve_range(" bytes= 0-9 ", 1000) == partial(0, 10));
}
