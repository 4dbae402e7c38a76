// A path under the system's temporary directory for one test, named after the test, the
// process and how many were made before: nothing is there at first (the test makes
// what it needs, or asks for the folder), and whatever is there at the end is removed.
#pragma once

#include <filesystem>
#include <string_view>

#include <fmt/format.h>
#include <unistd.h>

namespace stakecast::test {

struct temporary_folder {
  std::filesystem::path path;

  enum class made { no, yes };

  explicit temporary_folder(std::string_view name, made folder = made::no)
      : path(std::filesystem::temp_directory_path() /
             fmt::format("stakecast-{}-{}-{}", name, ::getpid(), counter()++)) {
    std::filesystem::remove_all(path);
    if (folder == made::yes)
      std::filesystem::create_directories(path);
  }
  ~temporary_folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temporary_folder(const temporary_folder&) = delete;
  temporary_folder& operator=(const temporary_folder&) = delete;

private:
  static int& counter() {
    static int made_before = 0;
    return made_before;
  }
};

} // namespace stakecast::test
