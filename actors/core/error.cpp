#include "actors/core/error.hpp"

#include <caf/deep_to_string.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <fmt/format.h>

namespace stakecast::core {

caf::error make_domain_error(caf::atom_value category, std::uint8_t code,
                             std::string_view code_name, std::string_view detail) {
  return caf::error{code, category,
                    caf::make_message(fmt::format("{}: {}", code_name, detail))};
}

std::string describe(const caf::error& error) {
  if (!error)
    return "none";
  std::string category = caf::to_string(error.category());
  const auto& context = error.context();
  if (context.match_elements<std::string>())
    return fmt::format("{}: {}", category, context.get_as<std::string>(0));
  return fmt::format("{}: code {} {}", category, error.code(), caf::deep_to_string(context));
}

std::string_view to_string(crypto_errc code) noexcept {
  switch (code) {
    case crypto_errc::bad_key:
      return "bad_key";
    case crypto_errc::bad_signature:
      return "bad_signature";
    case crypto_errc::library_failure:
      return "library_failure";
  }
  return "unknown";
}

caf::error make_error(crypto_errc code, std::string_view detail) {
  return make_domain_error(caf::atom("crypto"), static_cast<std::uint8_t>(code),
                           to_string(code), detail);
}

} // namespace stakecast::core
