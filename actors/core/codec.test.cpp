// Pins down the wire codec: every message round-trips and costs exactly
// encoded_size bytes; golden bytes fix the layout; every malformed input (each
// prefix, oversize lengths, unknown types, trailing bytes, bad frame headers) is a
// codec error naming what broke; and hostile input never crashes: 100,000 seeded
// random byte strings and seeded mutations of valid encodings either decode to a
// message that re-encodes to the same bytes (the encoding is canonical) or fail with
// a codec error. Hostile counts of 0xffffffff would need gigabytes if the decoder
// allocated before checking, so those tests fail loudly (bad_alloc) if it did.
#include "actors/core/codec.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include <catch2/catch.hpp>

#include "actors/core/error.hpp"

using namespace stakecast;
using wire::codec_errc;
using wire::message;

namespace {

core::hash256 id_of(std::uint8_t seed) {
  core::hash256 id;
  for (std::size_t i = 0; i < id.bytes.size(); ++i)
    id.bytes[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return id;
}

core::byte_buffer pattern(std::size_t size) {
  core::byte_buffer bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return bytes;
}

std::vector<core::node_id> ids(std::size_t count) {
  std::vector<core::node_id> result;
  for (std::size_t i = 0; i < count; ++i)
    result.push_back(id_of(static_cast<std::uint8_t>(i)));
  return result;
}

core::signature signature_of(std::uint8_t seed) {
  core::signature s;
  for (std::size_t i = 0; i < s.bytes.size(); ++i)
    s.bytes[i] = static_cast<std::uint8_t>(seed * 17 + i);
  return s;
}

wire::signed_vote vote_of(std::uint8_t seed) {
  return {id_of(seed), 40u + seed, 3, 2, id_of(seed + 1), id_of(seed + 2), signature_of(seed)};
}

// Every message type, with empty and maximal strings and lists.
std::vector<message> samples() {
  return {
    wire::hello{1, id_of(1), 42, "stakecast/0.1"},
    wire::hello{0, core::hash256{}, 0, ""},
    wire::hello{0xffff, id_of(2), ~0ull, std::string(limits::text_bytes_max, 'a')},
    wire::ping{0},
    wire::ping{0x0102030405060708},
    wire::pong{~0ull},
    wire::block_announce{id_of(3), 17},
    wire::block_request{id_of(4)},
    wire::block_transfer{id_of(5), 9, 123456789, wire::payload::materialized(pattern(1000))},
    wire::block_transfer{id_of(6), 0, 0, wire::payload::materialized({})},
    wire::peer_list{{}},
    wire::peer_list{ids(1)},
    wire::peer_list{ids(limits::peer_list_count_max)},
    wire::swarm_join{id_of(7), 0},
    wire::swarm_join{id_of(8), 0xffffffff},
    wire::swarm_peers{id_of(9), {}},
    wire::swarm_peers{id_of(10), ids(limits::peer_list_count_max)},
    wire::have_ranges{id_of(11), {}},
    wire::have_ranges{id_of(12), {{0, 10}, {20, 21}}, true},
    wire::have_ranges{id_of(13), std::vector<wire::segment_range>(limits::have_ranges_count_max,
                                                                  wire::segment_range{1, 2})},
    wire::segment_request{id_of(14), 3, 0x1122334455667788},
    wire::segment_request{id_of(14), 3, 0x1122334455667788, true},
    wire::segment_cancel{id_of(15), 99},
    wire::segment_reject{id_of(16), 7, static_cast<std::uint8_t>(wire::reject_reason::choked)},
    wire::segment_reject{id_of(17), 7, 0xff},
    wire::segment_data{id_of(18), 4, 5, wire::payload::materialized(pattern(3000))},
    wire::segment_data{id_of(19), 0, 0, wire::payload::materialized({})},
    wire::manifest_request{id_of(20)},
    wire::manifest_transfer{id_of(21), wire::payload::materialized(pattern(500))},
    wire::chain_tx{{}},
    wire::chain_tx{pattern(300)},
    wire::chain_tx{pattern(wire::chain_tx_bytes_max)},
    wire::chain_proposal{id_of(22), 7, 2, id_of(23), -1, id_of(24), signature_of(5),
                         wire::payload::materialized(pattern(2000))},
    wire::chain_proposal{id_of(25), ~0ull, 0xffffffff, id_of(26), 0x7fffffff, id_of(27),
                         signature_of(6), wire::payload::materialized({})},
    wire::chain_vote{vote_of(1)},
    wire::chain_vote{wire::signed_vote{}},
    wire::chain_commit{3, {}},
    wire::chain_commit{4, std::vector<wire::signed_vote>(wire::commit_votes_max, vote_of(2))},
    wire::chain_block_request{0},
    wire::chain_block_request{~0ull},
    wire::chain_block_response{5, 9, wire::payload::materialized(pattern(700)), {vote_of(3)}},
    wire::chain_block_response{0, 0, wire::payload::materialized({}), {}},
    wire::service_receipt{pattern(232)},
    wire::chain_query{7, id_of(28), {id_of(29), id_of(30)}, {id_of(32)}},
    wire::chain_query{0, id_of(31), std::vector<core::hash256>(wire::chain_query_deposits_max), {}},
    wire::chain_answer{7, id_of(32), 40, 3, 1'000'000, 500'000, true,
                       {{5, id_of(33), 17, 99}}, {id_of(34)},
                       {{id_of(35), true, id_of(36), 250, 4096}, {id_of(37), false, {}, 0, 0}},
                       {{id_of(38), true, id_of(39), {id_of(40), id_of(41)}}, {id_of(42), false, {}, {}}}},
    wire::chain_answer{},
  };
}

core::byte_buffer encoded(const message& x) {
  core::byte_buffer out;
  wire::encode(x, out);
  return out;
}

// CAF's rendering of the message held, e.g. "ping(5)".
std::string text_of(const message& x) {
  return std::visit([](const auto& m) { return caf::deep_to_string(m); }, x);
}

// "ok" or the codec error's name, so that failed checks print something readable.
std::string outcome(const caf::expected<message>& result) {
  if (result)
    return "ok";
  if (result.error().category() != caf::atom("codec"))
    return "not a codec error: " + core::describe(result.error());
  return std::string{wire::to_string(static_cast<codec_errc>(result.error().code()))};
}

std::string outcome(const caf::expected<std::uint32_t>& result) {
  if (result)
    return "ok";
  return std::string{wire::to_string(static_cast<codec_errc>(result.error().code()))};
}

core::byte_buffer le32(std::uint32_t x) {
  return {static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(x >> 8),
          static_cast<std::uint8_t>(x >> 16), static_cast<std::uint8_t>(x >> 24)};
}

core::byte_buffer concat(std::initializer_list<core::byte_buffer> parts) {
  core::byte_buffer result;
  for (const auto& part : parts)
    result.insert(result.end(), part.begin(), part.end());
  return result;
}

core::byte_buffer type_byte(wire::message_type type) {
  return {static_cast<std::uint8_t>(type)};
}

// Decodes hostile bytes; a success must re-encode to exactly the same bytes.
// Returns an empty string when all is well, else what went wrong.
std::string check_hostile(core::byte_span bytes) {
  auto result = wire::decode(bytes);
  if (!result) {
    if (result.error().category() != caf::atom("codec"))
      return "error outside the codec category: " + core::describe(result.error());
    return {};
  }
  auto again = encoded(*result);
  if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end()))
    return "decoded, but re-encodes to " + core::to_hex(again);
  if (wire::encoded_size(*result) != bytes.size())
    return "encoded_size disagrees with the input size";
  return {};
}

} // namespace

TEST_CASE("every message type round-trips at exactly encoded_size bytes", "[wire][codec]") {
  std::set<wire::message_type> covered;
  for (const auto& original : samples()) {
    INFO(text_of(original));
    covered.insert(wire::type_of(original));
    auto bytes = encoded(original);
    CHECK(bytes.size() == wire::encoded_size(original));
    CHECK(bytes.front() == static_cast<std::uint8_t>(wire::type_of(original)));
    auto decoded = wire::decode(bytes);
    REQUIRE(outcome(decoded) == "ok");
    CHECK(*decoded == original);
  }
  CHECK(covered.size() == std::variant_size_v<message>);
}

TEST_CASE("encode appends to what the buffer holds", "[wire][codec]") {
  core::byte_buffer out{0xee};
  wire::encode(wire::ping{7}, out);
  wire::encode(wire::pong{8}, out);
  REQUIRE(out.size() == 1 + 9 + 9);
  CHECK(out[0] == 0xee);
  CHECK(*wire::decode(core::byte_span{out}.subspan(1, 9)) == message{wire::ping{7}});
  CHECK(*wire::decode(core::byte_span{out}.subspan(10, 9)) == message{wire::pong{8}});
}

TEST_CASE("golden bytes fix the layout", "[wire][codec]") {
  SECTION("integers are little-endian, fixed width") {
    CHECK(encoded(wire::ping{0x0102030405060708}) ==
          core::byte_buffer{2, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01});
  }
  SECTION("hello: u16, raw id, u64, u32 length + text") {
    auto id = id_of(9);
    auto expected = concat({type_byte(wire::message_type::hello), {0x34, 0x12},
                            core::byte_buffer(id.bytes.begin(), id.bytes.end()),
                            {5, 0, 0, 0, 0, 0, 0, 0}, le32(2), {'h', 'i'}});
    CHECK(encoded(wire::hello{0x1234, id, 5, "hi"}) == expected);
  }
  SECTION("lists: u32 count, then the elements") {
    auto first = id_of(1);
    auto second = id_of(2);
    auto expected = concat({type_byte(wire::message_type::peer_list), le32(2),
                            core::byte_buffer(first.bytes.begin(), first.bytes.end()),
                            core::byte_buffer(second.bytes.begin(), second.bytes.end())});
    CHECK(encoded(wire::peer_list{{first, second}}) == expected);
  }
  SECTION("segment_request: raw id, u32 segment, u64 request id, bool critical") {
    auto id = id_of(4);
    auto expected = concat({type_byte(wire::message_type::segment_request),
                            core::byte_buffer(id.bytes.begin(), id.bytes.end()), le32(3),
                            {9, 0, 0, 0, 0, 0, 0, 0}, {1}});
    CHECK(encoded(wire::segment_request{id, 3, 9, true}) == expected);
    auto bad_flag = expected;
    bad_flag.back() = 2;
    CHECK(!wire::decode(bad_flag));
  }
  SECTION("payload: u32 size, then the bytes; zeros when virtual") {
    auto id = id_of(3);
    auto head = concat({type_byte(wire::message_type::block_transfer),
                        core::byte_buffer(id.bytes.begin(), id.bytes.end()),
                        {1, 0, 0, 0, 0, 0, 0, 0}, {2, 0, 0, 0, 0, 0, 0, 0}, le32(3)});
    CHECK(encoded(wire::block_transfer{id, 1, 2, wire::payload::materialized({7, 8, 9})}) ==
          concat({head, {7, 8, 9}}));
    CHECK(encoded(wire::block_transfer{id, 1, 2, wire::payload::virtual_of(3)}) ==
          concat({head, {0, 0, 0}}));
  }
}

TEST_CASE("a virtual payload decodes to zeros of the same size", "[wire][codec]") {
  wire::block_transfer original{id_of(7), 3, 99, wire::payload::virtual_of(5000)};
  CHECK(wire::encoded_size(original) == 1 + 32 + 8 + 8 + 4 + 5000);
  auto bytes = encoded(original);
  CHECK(bytes.size() == wire::encoded_size(original));
  auto decoded = wire::decode(bytes);
  REQUIRE(outcome(decoded) == "ok");
  const auto& transfer = std::get<wire::block_transfer>(*decoded);
  CHECK_FALSE(transfer.body.is_virtual());
  CHECK(transfer.body.size_bytes == 5000);
  CHECK(transfer.body.view().size() == 5000);
  CHECK(std::all_of(transfer.body.view().begin(), transfer.body.view().end(),
                    [](std::uint8_t b) { return b == 0; }));
  // Virtual and materialized never compare equal, even with the same bytes on the wire.
  CHECK_FALSE(transfer == original);
  auto zeros = original;
  zeros.body = wire::payload::materialized(core::byte_buffer(5000, 0));
  CHECK(transfer == zeros);
  CHECK(wire::payload::virtual_of(5000) == wire::payload::virtual_of(5000));
  CHECK_FALSE(wire::payload::virtual_of(5000) == wire::payload::virtual_of(4999));
}

TEST_CASE("a maximal payload fits one frame", "[wire][codec]") {
  wire::block_transfer virtual_max{id_of(8), 1, 2,
                                   wire::payload::virtual_of(limits::payload_bytes_max)};
  CHECK(wire::encoded_size(virtual_max) <= limits::frame_bytes_max);

  wire::block_transfer real_max{id_of(8), 1, 2,
                                wire::payload::materialized(pattern(limits::payload_bytes_max))};
  core::byte_buffer frame;
  wire::encode_frame(real_max, frame);
  REQUIRE(frame.size() == limits::frame_header_bytes + wire::encoded_size(real_max));
  auto length = wire::decode_frame_header(core::byte_span{frame}.first(4));
  REQUIRE(outcome(length) == "ok");
  CHECK(*length == frame.size() - limits::frame_header_bytes);
  auto decoded = wire::decode(core::byte_span{frame}.subspan(4));
  REQUIRE(outcome(decoded) == "ok");
  CHECK(*decoded == message{real_max});
}

TEST_CASE("every strict prefix of a valid encoding is truncated", "[wire][codec]") {
  for (const auto& original : samples()) {
    auto bytes = encoded(original);
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      auto result = wire::decode(core::byte_span{bytes}.first(length));
      if (outcome(result) != "truncated") {
        INFO(text_of(original) << " cut to " << length << " of " << bytes.size()
                                           << " bytes");
        CHECK(outcome(result) == "truncated");
      }
    }
  }
}

TEST_CASE("a truncation error names the message with its field and offset", "[wire][codec]") {
  auto bytes = encoded(wire::block_announce{id_of(1), 5});
  bytes.pop_back();
  auto result = wire::decode(bytes);
  REQUIRE_FALSE(result);
  CHECK(core::describe(result.error()) ==
        "codec: truncated: block_announce field 2 (integer) needs 8 bytes at offset 33, "
        "7 remain");
}

TEST_CASE("lengths and counts above their limits are oversize", "[wire][codec]") {
  auto peer_list = type_byte(wire::message_type::peer_list);
  auto hello_head = concat({type_byte(wire::message_type::hello), {1, 0},
                            core::byte_buffer(32, 0), core::byte_buffer(8, 0)});
  auto transfer_head = concat({type_byte(wire::message_type::block_transfer),
                               core::byte_buffer(32 + 8 + 8, 0)});

  SECTION("a count of 0xffffffff in a tiny buffer fails at once, allocating nothing") {
    CHECK(outcome(wire::decode(concat({peer_list, le32(0xffffffff)}))) == "oversize");
    CHECK(outcome(wire::decode(concat({hello_head, le32(0xffffffff)}))) == "oversize");
    CHECK(outcome(wire::decode(concat({transfer_head, le32(0xffffffff)}))) == "oversize");
  }
  SECTION("one above the limit, even with every byte present") {
    auto count = static_cast<std::uint32_t>(limits::peer_list_count_max + 1);
    CHECK(outcome(wire::decode(
            concat({peer_list, le32(count), core::byte_buffer(count * 32, 1)}))) == "oversize");
    auto text = static_cast<std::uint32_t>(limits::text_bytes_max + 1);
    CHECK(outcome(wire::decode(concat({hello_head, le32(text), core::byte_buffer(text, 'a')}))) ==
          "oversize");
    auto size = static_cast<std::uint32_t>(limits::payload_bytes_max + 1);
    CHECK(outcome(wire::decode(concat({transfer_head, le32(size)}))) == "oversize");
  }
  SECTION("within the limit but beyond the bytes left is truncated, before allocating") {
    auto count = static_cast<std::uint32_t>(limits::peer_list_count_max);
    CHECK(outcome(wire::decode(concat({peer_list, le32(count), core::byte_buffer(63, 1)}))) ==
          "truncated");
    auto size = static_cast<std::uint32_t>(limits::payload_bytes_max);
    CHECK(outcome(wire::decode(concat({transfer_head, le32(size)}))) == "truncated");
  }
  SECTION("the error names the field and the limit") {
    auto result = wire::decode(concat({peer_list, le32(0xffffffff)}));
    REQUIRE_FALSE(result);
    CHECK(core::describe(result.error()) ==
          "codec: oversize: peer_list field 1 (list count) is 4294967295 at offset 1, "
          "above its limit 64");
  }
}

TEST_CASE("a type byte that names no message is unknown_type", "[wire][codec]") {
  std::set<std::uint8_t> known;
  for (const auto& x : samples())
    known.insert(static_cast<std::uint8_t>(wire::type_of(x)));
  for (int byte = 0; byte < 256; ++byte) {
    auto type = static_cast<std::uint8_t>(byte);
    if (known.count(type) != 0)
      continue;
    INFO("type byte " << byte);
    CHECK(outcome(wire::decode(core::byte_buffer{type, 0, 0, 0, 0, 0, 0, 0, 0})) ==
          "unknown_type");
    CHECK(wire::to_string(static_cast<wire::message_type>(type)) == "unknown");
  }
  CHECK(wire::to_string(wire::message_type::block_transfer) == "block_transfer");
}

TEST_CASE("bytes after one whole message are trailing_bytes", "[wire][codec]") {
  for (const auto& original : samples()) {
    INFO(text_of(original));
    auto bytes = encoded(original);
    bytes.push_back(0);
    CHECK(outcome(wire::decode(bytes)) == "trailing_bytes");
    bytes.insert(bytes.end(), bytes.begin(), bytes.end() - 1);
    CHECK(outcome(wire::decode(bytes)) == "trailing_bytes");
  }
}

TEST_CASE("frames carry a u32 body length within 1..=frame_bytes_max", "[wire][codec]") {
  SECTION("encode_frame prefixes the body with its length") {
    core::byte_buffer frame;
    wire::encode_frame(wire::ping{5}, frame);
    CHECK(frame == concat({le32(9), encoded(wire::ping{5})}));
    auto length = wire::decode_frame_header(core::byte_span{frame}.first(4));
    REQUIRE(outcome(length) == "ok");
    CHECK(*length == 9);
  }
  SECTION("length limits") {
    CHECK(outcome(wire::decode_frame_header(le32(0))) == "oversize");
    CHECK(outcome(wire::decode_frame_header(le32(1))) == "ok");
    auto max = static_cast<std::uint32_t>(limits::frame_bytes_max);
    CHECK(*wire::decode_frame_header(le32(max)) == max);
    CHECK(outcome(wire::decode_frame_header(le32(max + 1))) == "oversize");
    CHECK(outcome(wire::decode_frame_header(le32(0xffffffff))) == "oversize");
  }
  SECTION("a header is exactly four bytes") {
    CHECK(outcome(wire::decode_frame_header(core::byte_buffer{1, 0, 0})) == "truncated");
    CHECK(outcome(wire::decode_frame_header(core::byte_buffer{})) == "truncated");
    CHECK(outcome(wire::decode_frame_header(core::byte_buffer{1, 0, 0, 0, 0})) ==
          "trailing_bytes");
  }
}

TEST_CASE("a hundred thousand random byte strings never crash the decoder", "[wire][codec][fuzz]") {
  constexpr std::uint64_t seed = 0x5eed'c0de'0001;
  std::mt19937_64 random{seed};
  std::set<std::uint8_t> known;
  for (const auto& x : samples())
    known.insert(static_cast<std::uint8_t>(wire::type_of(x)));
  std::vector<std::uint8_t> types(known.begin(), known.end());

  std::size_t decoded = 0;
  core::byte_buffer bytes;
  for (int i = 0; i < 100'000; ++i) {
    // Mostly short strings; some long enough for lists; most start with a real type
    // byte so that the fields get exercised, not just the type check.
    std::size_t length = random() % 8 == 0 ? random() % 2200 : random() % 80;
    bytes.resize(length);
    for (auto& byte : bytes)
      byte = static_cast<std::uint8_t>(random());
    if (length > 0 && random() % 4 != 0)
      bytes[0] = types[random() % types.size()];
    // Small counts and lengths, so that some random strings are whole messages.
    if (length > 5 && random() % 2 == 0)
      bytes[1] = bytes[2] = bytes[3] = bytes[4] = 0;
    auto problem = check_hostile(bytes);
    if (!problem.empty()) {
      INFO("seed " << seed << ", iteration " << i << ", input " << core::to_hex(bytes));
      FAIL(problem);
    }
    decoded += wire::decode(bytes) ? 1 : 0;
  }
  INFO("seed " << seed);
  CHECK(decoded > 0); // the generator reaches whole messages, not only errors
}

TEST_CASE("mutations of valid encodings decode or fail cleanly", "[wire][codec][fuzz]") {
  constexpr std::uint64_t seed = 0x5eed'c0de'0002;
  std::mt19937_64 random{seed};
  for (const auto& original : samples()) {
    const auto valid = encoded(original);
    for (int i = 0; i < 2'000; ++i) {
      auto bytes = valid;
      auto flips = 1 + random() % 4;
      for (std::uint64_t flip = 0; flip < flips; ++flip) {
        auto& byte = bytes[random() % bytes.size()];
        byte = random() % 2 == 0 ? static_cast<std::uint8_t>(byte ^ (1u << (random() % 8)))
                                 : static_cast<std::uint8_t>(random());
      }
      if (random() % 8 == 0)
        bytes.resize(random() % (bytes.size() + 1));
      auto problem = check_hostile(bytes);
      if (!problem.empty()) {
        INFO("seed " << seed << ", sample " << text_of(original) << ", iteration "
                     << i << ", input " << core::to_hex(bytes));
        FAIL(problem);
      }
    }
  }
}

TEST_CASE("CAF's own inspectors accept every message", "[wire][codec]") {
  auto with_virtual = samples();
  with_virtual.push_back(wire::block_transfer{id_of(9), 1, 2, wire::payload::virtual_of(77)});
  for (const auto& original : with_virtual) {
    std::visit(
      [](const auto& x) {
        using type = std::decay_t<decltype(x)>;
        auto text = caf::deep_to_string(x);
        INFO(text);
        CHECK(text.rfind(std::string{type::name} + "(", 0) == 0);
        std::vector<char> buffer;
        caf::binary_serializer sink{nullptr, buffer};
        REQUIRE_FALSE(sink(const_cast<type&>(x)));
        type copy;
        caf::binary_deserializer source{nullptr, buffer};
        REQUIRE_FALSE(source(copy));
        CHECK(copy == x); // a virtual payload stays virtual inside CAF
      },
      original);
  }
}

TEST_CASE("golden bytes fix the layout of nested segment ranges", "[wire][codec]") {
  auto content = id_of(1);
  core::byte_buffer content_bytes(content.bytes.begin(), content.bytes.end());
  auto expected = concat({type_byte(wire::message_type::have_ranges), content_bytes, le32(2),
                          le32(0), le32(10), le32(20), le32(21), {0}});
  CHECK(encoded(wire::have_ranges{content, {{0, 10}, {20, 21}}}) == expected);
}

TEST_CASE("a virtual digest tells payloads apart but never reaches the wire", "[wire][codec]") {
  auto honest = wire::payload::virtual_of(100, id_of(1));
  auto poisoned = wire::payload::virtual_of(100, id_of(2));
  CHECK_FALSE(honest == poisoned);
  CHECK(honest == wire::payload::virtual_of(100, id_of(1)));
  auto content = id_of(3);
  CHECK(encoded(wire::segment_data{content, 1, 2, honest}) ==
        encoded(wire::segment_data{content, 1, 2, poisoned}));
}
