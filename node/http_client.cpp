#include "node/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace stakecast::node {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

result<http_reply> http_request(const endpoint& server, std::string_view method,
                                std::string_view target, std::string_view body,
                                std::chrono::milliseconds timeout, const http_fields& fields) {
  using out = result<http_reply>;
  const auto where = server.to_string();
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    const auto addresses = resolver.resolve(server.host, std::to_string(server.port));
    stream.expires_after(timeout);
    stream.connect(addresses);
    http::request<http::string_body> request{
        http::string_to_verb(beast::string_view(method.data(), method.size())),
        beast::string_view(target.data(), target.size()), 11};
    request.set(http::field::host, where);
    request.set(http::field::connection, "close");
    for (const auto& [name, value] : fields)
      request.set(name, value);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = std::string(body);
      request.prepare_payload();
    }
    stream.expires_after(timeout);
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(http_reply_bytes_max);
    stream.expires_after(timeout);
    http::read(stream, buffer, parser);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return out::success({parser.get().result_int(), std::move(parser.get().body())});
  } catch (const boost::system::system_error& error) {
    return out::failure(fmt::format("{} {} at {}: {}", method, target, where, error.code().message()));
  }
}

} // namespace stakecast::node
