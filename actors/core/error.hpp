// Errors are values. Every domain has an `enum class ..._errc` whose values become a
// `caf::error` with a category atom and a human-readable context that names what is
// wrong ("truncated: frame ends at byte 12 while reading 'count'"). Operating errors
// (hostile bytes, bad files, a lost peer) travel as these values and are reported at
// the edge with `describe`; programmer errors are assertions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace stakecast::core {

/// Builds a caf::error in `category` with code `code` and the text
/// "<code_name>: <detail>" as its context.
caf::error make_domain_error(caf::atom_value category, std::uint8_t code,
                             std::string_view code_name, std::string_view detail);

/// "<category>: <context text>", or "none" for the empty error. Works for CAF's own
/// errors too (their context is rendered with deep_to_string).
std::string describe(const caf::error& error);

enum class crypto_errc : std::uint8_t {
  bad_key = 1,
  bad_signature,
  library_failure,
};

std::string_view to_string(crypto_errc code) noexcept;
caf::error make_error(crypto_errc code, std::string_view detail);

} // namespace stakecast::core
