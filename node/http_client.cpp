#include "node/http_client.hpp"

#include <algorithm>
#include <limits>

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

namespace {
/// What one recv may take: Beast's own cap per read.
constexpr std::size_t read_bytes = 64 * 1024;

/// Resolves and connects within `timeout`; throws boost::system::system_error.
void connect(beast::tcp_stream& stream, const endpoint& server, std::chrono::milliseconds timeout) {
  asio::ip::tcp::resolver resolver(stream.get_executor());
  const auto addresses = resolver.resolve(server.host, std::to_string(server.port));
  stream.expires_after(timeout);
  stream.connect(addresses);
}

/// Host, one request per connection, and the caller's fields.
template <class Request>
void set_fields(Request& request, const std::string& where, const http_fields& fields) {
  request.set(http::field::host, where);
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : fields)
    request.set(name, value);
}
} // namespace

result<http_reply> http_request(const endpoint& server, std::string_view method,
                                std::string_view target, std::string_view body,
                                std::chrono::milliseconds timeout, const http_fields& fields) {
  using out = result<http_reply>;
  const auto where = server.to_string();
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    connect(stream, server, timeout);
    http::request<http::string_body> request{
        http::string_to_verb(beast::string_view(method.data(), method.size())),
        beast::string_view(target.data(), target.size()), 11};
    set_fields(request, where, fields);
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
    return out::failure(
        fmt::format("{} {} at {}: {}", method, target, where, error.code().message()));
  }
}

result<http_stream_reply> http_get_streamed(const endpoint& server, std::string_view target,
                                            std::chrono::milliseconds timeout,
                                            const http_fields& fields, const http_body_sink& sink) {
  using out = result<http_stream_reply>;
  const auto where = server.to_string();
  http_stream_reply reply;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    connect(stream, server, timeout);
    http::request<http::empty_body> request{http::verb::get,
                                            beast::string_view(target.data(), target.size()), 11};
    set_fields(request, where, fields);
    stream.expires_after(timeout);
    http::write(stream, request);

    beast::flat_buffer buffer;
    // Beast reads at most the buffer's free capacity (512 bytes at first) per call:
    // without room, a 256 MiB body takes half a million recv calls.
    buffer.reserve(read_bytes);
    http::response_parser<http::buffer_body> parser;
    // Not boost::none: Beast 1.74 compares a Content-Length against an empty limit
    // as if it were exceeded.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    stream.expires_after(timeout);
    http::read_header(stream, buffer, parser);
    reply.status = parser.get().result_int();
    const bool success = reply.status >= 200 && reply.status < 300;
    std::string chunk(http_stream_chunk_bytes, '\0');
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      beast::error_code error;
      stream.expires_after(timeout);
      http::read(stream, buffer, parser, error);
      if (error == http::error::need_buffer)
        error = {};
      const std::size_t got = chunk.size() - parser.get().body().size;
      if (!success) {
        reply.error_body.append(chunk.data(),
                                std::min(got, http_reply_bytes_max - reply.error_body.size()));
      } else if (got > 0) {
        reply.body_bytes += got;
        if (auto stop = sink(std::string_view(chunk.data(), got)); !stop.empty())
          return out::failure(std::move(stop));
      }
      if (error)
        return out::failure(fmt::format("GET {} at {}: {} after {} body bytes", target, where,
                                        error.message(), reply.body_bytes));
    }
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return out::success(std::move(reply));
  } catch (const boost::system::system_error& error) {
    return out::failure(fmt::format("GET {} at {}: {} after {} body bytes", target, where,
                                    error.code().message(), reply.body_bytes));
  }
}

} // namespace stakecast::node
