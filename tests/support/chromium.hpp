// A real headless Chromium for tests, driven over the DevTools protocol on a pipe
// (`--remote-debugging-pipe`: the browser reads NUL-terminated JSON commands on fd 3
// and writes NUL-terminated answers and events on fd 4). No port is opened for the
// protocol; both fds are one end of a Unix socket pair, so a browser that died makes
// a write fail with EPIPE (MSG_NOSIGNAL) instead of killing the test with SIGPIPE.
//
// The browser runs in its own process group with a fresh profile in a temp folder,
// without sandbox (tests run as root in containers), muted, with autoplay allowed
// without a user gesture. The destructor closes the protocol socket, sends SIGTERM to
// the group, waits at most `stop_wait`, then SIGKILLs the group, reaps the process and
// removes the profile. Every protocol call waits at most its timeout.
//
// Not thread-safe: one test thread uses one browser.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace stakecast::test {

class headless_chromium {
public:
  static constexpr std::chrono::milliseconds stop_wait{5'000};
  /// A protocol answer larger than this is a broken browser, not a page.
  static constexpr std::size_t message_bytes_max = 16 << 20;

  /// Debian's binary (the /usr/bin/chromium wrapper script adds nothing a test needs),
  /// else `chromium` or `chromium-browser` on PATH; nullopt when there is none.
  static std::optional<std::filesystem::path> find_executable() {
    const std::filesystem::path debian = "/usr/lib/chromium/chromium";
    if (::access(debian.c_str(), X_OK) == 0)
      return debian;
    const char* path = std::getenv("PATH");
    std::string rest = path != nullptr ? path : "/usr/bin:/bin";
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::filesystem::path folder = rest.substr(0, colon);
      rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
      for (const char* name : {"chromium", "chromium-browser"})
        if (::access((folder / name).c_str(), X_OK) == 0)
          return folder / name;
    }
    return std::nullopt;
  }

  /// Starts the browser with a fresh profile under `profile_parent`. Null with `error`
  /// set when it cannot.
  static std::unique_ptr<headless_chromium> start(const std::filesystem::path& profile_parent,
                                                  std::string& error) {
    const auto executable = find_executable();
    if (!executable) {
      error = "no chromium on this machine (scripts/install-deps installs Debian's)";
      return nullptr;
    }
    std::unique_ptr<headless_chromium> browser(new headless_chromium);
    browser->profile_ = profile_parent / fmt::format("chromium-profile-{}", ::getpid());
    std::filesystem::create_directories(browser->profile_);
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
      error = fmt::format("socketpair: {}", std::strerror(errno));
      return nullptr;
    }
    browser->socket_ = ends[0];
    const std::vector<std::string> arguments = {executable->string(),
                                                "--headless",
                                                "--no-sandbox",
                                                "--disable-gpu",
                                                "--no-first-run",
                                                "--no-default-browser-check",
                                                "--mute-audio",
                                                "--autoplay-policy=no-user-gesture-required",
                                                "--remote-debugging-pipe",
                                                "--user-data-dir=" + browser->profile_.string(),
                                                "about:blank"};
    const auto log = (browser->profile_ / "chromium.log").string();
    // Chromium puts its singleton socket in a folder under TMPDIR: inside the profile,
    // it goes when the profile goes. Built before fork: the child only calls
    // async-signal-safe functions.
    std::vector<std::string> environment;
    for (char** variable = environ; *variable != nullptr; ++variable)
      if (std::string_view(*variable).substr(0, 7) != "TMPDIR=")
        environment.emplace_back(*variable);
    environment.push_back("TMPDIR=" + browser->profile_.string());
    const auto argv = pointers_to(arguments);
    const auto envp = pointers_to(environment);
    const pid_t pid = ::fork();
    if (pid < 0) {
      error = fmt::format("fork: {}", std::strerror(errno));
      ::close(ends[1]);
      return nullptr;
    }
    if (pid == 0)
      exec_child(argv.data(), envp.data(), ends[1], log.c_str()); // never returns
    ::close(ends[1]);
    browser->pid_ = pid;
    return browser;
  }

  ~headless_chromium() {
    if (socket_ >= 0)
      ::close(socket_);
    if (pid_ > 0)
      stop_group();
    std::error_code ignored;
    std::filesystem::remove_all(profile_, ignored);
  }

  headless_chromium(const headless_chromium&) = delete;
  headless_chromium& operator=(const headless_chromium&) = delete;

  /// Opens `url` in a new page and attaches to it; the page's session id, or "" with
  /// `error` set.
  std::string open(const std::string& url, std::chrono::milliseconds timeout, std::string& error) {
    const auto target = call("Target.createTarget", {{"url", url}}, "", timeout, error);
    if (!target || !target->contains("targetId")) {
      error = "Target.createTarget: " + error;
      return {};
    }
    const auto attached =
        call("Target.attachToTarget", {{"targetId", (*target)["targetId"]}, {"flatten", true}}, "",
             timeout, error);
    if (!attached || !attached->contains("sessionId")) {
      error = "Target.attachToTarget: " + error;
      return {};
    }
    return (*attached)["sessionId"].get<std::string>();
  }

  /// The value of JavaScript `expression` in the page of `session` (returned by
  /// value: a string, number, object...), or nullopt with `error` set.
  std::optional<nlohmann::json> evaluate(const std::string& session, const std::string& expression,
                                         std::chrono::milliseconds timeout, std::string& error) {
    const auto answer =
        call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}}, session,
             timeout, error);
    if (!answer)
      return std::nullopt;
    if (answer->contains("exceptionDetails")) {
      error = "the expression threw: " + (*answer)["exceptionDetails"].dump();
      return std::nullopt;
    }
    const auto& result = (*answer)["result"];
    return result.contains("value") ? result["value"] : nlohmann::json();
  }

  /// The browser's own log (stderr), for a failing test's report.
  std::string log_tail(std::size_t bytes_max = 4096) const {
    std::string text;
    if (FILE* file = std::fopen((profile_ / "chromium.log").c_str(), "r")) {
      char buffer[4096];
      while (const auto n = std::fread(buffer, 1, sizeof buffer, file))
        text.append(buffer, n);
      std::fclose(file);
    }
    return text.size() > bytes_max ? text.substr(text.size() - bytes_max) : text;
  }

private:
  headless_chromium() = default;

  /// The null-terminated array execve takes; the strings must outlive it.
  static std::vector<char*> pointers_to(const std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (const auto& text : strings)
      pointers.push_back(const_cast<char*>(text.c_str()));
    pointers.push_back(nullptr);
    return pointers;
  }

  [[noreturn]] static void exec_child(char* const* argv, char* const* envp, int end,
                                      const char* log) {
    ::setpgid(0, 0);
    // F_DUPFD clears close-on-exec; going through fds >= 10 first keeps dup2 from
    // being a no-op when `end` already is 3 or 4.
    const int high = ::fcntl(end, F_DUPFD, 10);
    if (high < 0 || ::dup2(high, 3) < 0 || ::dup2(high, 4) < 0)
      ::_exit(127);
    ::close(high);
    const int null = ::open("/dev/null", O_RDONLY);
    const int out = ::open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (null >= 0)
      ::dup2(null, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execve(argv[0], argv, envp);
    ::_exit(127);
  }

  void stop_group() {
    ::kill(-pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + stop_wait;
    bool reaped = false;
    while (!reaped && std::chrono::steady_clock::now() < deadline) {
      reaped = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
      if (!reaped)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(-pid_, SIGKILL); // the group's helpers, and the browser if it did not stop
    if (!reaped)
      ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  /// Sends one command and waits for its answer, skipping events. The answer's
  /// `result`, or nullopt with `error` set.
  std::optional<nlohmann::json> call(const std::string& method, const nlohmann::json& params,
                                     const std::string& session, std::chrono::milliseconds timeout,
                                     std::string& error) {
    const std::uint64_t id = ++last_id_;
    nlohmann::json command = {{"id", id}, {"method", method}, {"params", params}};
    if (!session.empty())
      command["sessionId"] = session;
    std::string text = command.dump();
    text.push_back('\0');
    for (std::size_t sent = 0; sent < text.size();) {
      const auto n = ::send(socket_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        error = fmt::format("{}: the browser is gone ({})", method, std::strerror(errno));
        return std::nullopt;
      }
      sent += static_cast<std::size_t>(n);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (auto end = pending_.find('\0'); end != std::string::npos; end = pending_.find('\0')) {
        auto message = nlohmann::json::parse(pending_.substr(0, end), nullptr, false);
        pending_.erase(0, end + 1);
        if (!message.is_object() || !message.contains("id") || message["id"] != id)
          continue;
        if (message.contains("error")) {
          error = fmt::format("{}: {}", method, message["error"].dump());
          return std::nullopt;
        }
        return message["result"];
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        error = fmt::format("{}: no answer within {} ms", method, timeout.count());
        return std::nullopt;
      }
      pollfd ready{socket_, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char buffer[65536];
      const auto n = ::recv(socket_, buffer, sizeof buffer, 0);
      if (n <= 0 || pending_.size() + static_cast<std::size_t>(n) > message_bytes_max) {
        error = fmt::format("{}: the browser closed the protocol pipe", method);
        return std::nullopt;
      }
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  std::filesystem::path profile_;
  int socket_ = -1;
  pid_t pid_ = 0;
  std::uint64_t last_id_ = 0;
  std::string pending_;
};

} // namespace stakecast::test
