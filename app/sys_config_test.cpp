// Unit tests of the sys.config reader: the tutorial's file, Erlang's rules, and exact error texts.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "app/sys_config.hpp"
#include "test/tutorial.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;
using nodes = std::vector<std::string>;

const std::string& tutorial_config = tutorial_sys_config();

sys_config parsed(std::string_view text) {
  auto result = parse_sys_config(text, "sys.config");
  REQUIRE_MESSAGE(result, result.error);
  return *result;
}

std::string error_of(std::string_view text) {
  const auto result = parse_sys_config(text, "sys.config");
  return result ? "no error" : result.error;
}

std::string tutorial_with(std::string_view from, std::string_view to) {
  std::string text(tutorial_config);
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// A fresh directory, removed with everything in it at the end of the test.
struct temp_dir {
  std::filesystem::path path;

  temp_dir() {
    std::string pattern =
      (std::filesystem::temp_directory_path() / "sys_config_test_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }

  std::string write(const std::string& name, std::string_view text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

} // namespace

TEST_CASE("the tutorial's sys.config yields both nodes and a 5000 ms timeout") {
  SUBCASE("parsed from text") {
    const auto config = parsed(tutorial_config);
    CHECK(config.sync_nodes_optional == nodes{"node1@127.0.0.1", "node2@127.0.0.1"});
    CHECK(config.sync_nodes_mandatory.empty());
    CHECK(config.sync_nodes_timeout == 5000ms);
  }
  SUBCASE("loaded from a file named with or without .config, as -config names it") {
    const temp_dir dir;
    const std::string path = dir.write("sys.config", tutorial_config);
    for (const auto& name : {path, (dir.path / "sys").string()}) {
      CAPTURE(name);
      const auto result = load_sys_config(name);
      REQUIRE_MESSAGE(result, result.error);
      CHECK(result->sync_nodes_optional == nodes{"node1@127.0.0.1", "node2@127.0.0.1"});
      CHECK(result->sync_nodes_timeout == 5000ms);
    }
  }
}

TEST_CASE("settings missing from sys.config keep Erlang's defaults") {
  for (const auto* text : {"[].", "[{kernel, []}].", "[{kernel, [{sync_nodes_optional, []}]}]."}) {
    CAPTURE(text);
    const auto config = parsed(text);
    CHECK(config.sync_nodes_optional.empty());
    CHECK(config.sync_nodes_mandatory.empty());
    CHECK(config.sync_nodes_timeout == 0ms);
  }
}

TEST_CASE("sync_nodes_mandatory and an infinite sync_nodes_timeout are read too") {
  const auto config = parsed(R"([{kernel, [
    {sync_nodes_mandatory, [a@host, 'b@10.0.0.2']},
    {sync_nodes_optional, ['c@h']},
    {sync_nodes_timeout, infinity}
  ]}].)");
  CHECK(config.sync_nodes_mandatory == nodes{"a@host", "b@10.0.0.2"});
  CHECK(config.sync_nodes_optional == nodes{"c@h"});
  CHECK(config.sync_nodes_timeout == std::chrono::milliseconds::max());
  CHECK(parsed("[{kernel, [{sync_nodes_timeout, 0}]}].").sync_nodes_timeout == 0ms);
}

TEST_CASE("applications and kernel settings watercooler does not use are ignored") {
  const auto config = parsed(R"(
    % other applications may hold any terms
    [{sasl, [{sasl_error_logger, false}, {ratio, 0.5}, {dir, "/var/log"}, {x, {a, [b, -1]}}]},
     {kernel, [{logger_level, info}, {sync_nodes_timeout, 16#10}, {inet_dist_listen_min, 9100}]},
     {my_app, []}].
  )");
  CHECK(config.sync_nodes_optional.empty());
  CHECK(config.sync_nodes_timeout == 16ms);
}

TEST_CASE("syntax errors name the file, the line and the column") {
  SUBCASE("the tutorial without its final dot") {
    CHECK(error_of(tutorial_with("].", "]"))
          == "sys.config:11:2: unexpected end of input, expected '.'");
  }
  SUBCASE("the tutorial without a comma") {
    CHECK(error_of(tutorial_with("1',", "1'"))
          == "sys.config:7:9: expected ',' or ']' but found atom 'node2@127.0.0.1'");
  }
  SUBCASE("the tutorial with an unclosed quote") {
    CHECK(error_of(tutorial_with("1'\n      ]", "1\n      ]"))
          == "sys.config:7:9: unterminated quoted atom");
    // As in Erlang, the atom then runs to the next quote, and the error shows up after it.
    CHECK(error_of(tutorial_with("1',", "1,"))
          == "sys.config:7:10: expected ',' or ']' but found atom 'node2@127'");
  }
  SUBCASE("the file name is shown as given") {
    CHECK(parse_sys_config("[a}.", "/etc/watercooler/prod.config").error
          == "/etc/watercooler/prod.config:1:3: expected ',' or ']' but found '}'");
  }
}

TEST_CASE("a file that is not one list of {Application, Settings} tuples is rejected") {
  SUBCASE("no term at all") {
    const std::string expected =
      "sys.config:1:1: unexpected end of input, expected a list of {Application, Settings} tuples";
    CHECK(error_of("") == expected);
    CHECK(error_of("%% sys.config\n% nothing yet\n") == expected);
  }
  SUBCASE("a term that is not a list") {
    CHECK(error_of("{kernel, []}.")
          == "sys.config:1:1: the configuration must be a list of {Application, Settings} tuples "
             "but found a tuple of 2 elements");
  }
  SUBCASE("two terms") {
    CHECK(error_of("[].\n[{kernel, []}].")
          == "sys.config:2:1: expected end of input after the configuration list but found a list");
  }
  SUBCASE("entries that are not {Application, Settings}") {
    CHECK(error_of("[kernel].")
          == "sys.config:1:2: each entry must be an {Application, Settings} tuple but found atom "
             "'kernel'");
    CHECK(error_of("[{kernel}].")
          == "sys.config:1:2: each entry must be an {Application, Settings} tuple but found a "
             "tuple of 1 element");
    CHECK(error_of("[{kernel, [], []}].")
          == "sys.config:1:2: each entry must be an {Application, Settings} tuple but found a "
             "tuple of 3 elements");
    CHECK(error_of("[{\"kernel\", []}].")
          == "sys.config:1:3: an application name must be an atom but found string \"kernel\"");
    CHECK(error_of("[{kernel, foo}].")
          == "sys.config:1:11: the settings of kernel must be a list of {Key, Value} tuples but "
             "found atom 'foo'");
  }
  SUBCASE("included config files") {
    CHECK(error_of("[\"other.config\", {kernel, []}].")
          == "sys.config:1:2: including other config files, like \"other.config\", is not "
             "supported");
  }
  SUBCASE("an application configured twice") {
    CHECK(error_of("[{kernel, []},\n {kernel, []}].")
          == "sys.config:2:3: duplicate application kernel");
  }
  SUBCASE("settings of other applications are checked for shape too, as Erlang does") {
    CHECK(error_of("[{sasl, [debug]}].")
          == "sys.config:1:10: each setting of sasl must be a {Key, Value} tuple but found atom "
             "'debug'");
    CHECK(error_of("[{'my app', [{1, 2}]}].")
          == "sys.config:1:15: a setting name must be an atom but found integer 1");
  }
}

TEST_CASE("kernel settings of the wrong shape point at the offending term") {
  const std::string node_names = "sync_nodes_optional must be a list of node-name atoms";
  SUBCASE("a node list that is no list") {
    CHECK(
      error_of(tutorial_with("[\n        'node1@127.0.0.1',\n        'node2@127.0.0.1'\n      ]",
                             "'node1@127.0.0.1'"))
      == "sys.config:5:7: " + node_names + " but found atom 'node1@127.0.0.1'");
  }
  SUBCASE("a node given as a string") {
    CHECK(error_of(tutorial_with("'node2@127.0.0.1'", "\"node2@127.0.0.1\""))
          == "sys.config:7:9: " + node_names + " but found string \"node2@127.0.0.1\"");
  }
  SUBCASE("node names that are not name@host") {
    const auto not_a_node = [&](const std::string& name) {
      return "sys.config:6:9: " + node_names + " but found atom '" + name
             + "', which is not of the form name@host";
    };
    CHECK(error_of(tutorial_with("'node1@127.0.0.1'", "node1")) == not_a_node("node1"));
    CHECK(error_of(tutorial_with("'node1@127.0.0.1'", "'@host'")) == not_a_node("@host"));
    CHECK(error_of(tutorial_with("'node1@127.0.0.1'", "'node1@'")) == not_a_node("node1@"));
    CHECK(error_of(tutorial_with("'node1@127.0.0.1'", "'a@b@c'")) == not_a_node("a@b@c"));
  }
  SUBCASE("sync_nodes_mandatory with a number in it") {
    CHECK(error_of("[{kernel, [{sync_nodes_mandatory, [1]}]}].")
          == "sys.config:1:36: sync_nodes_mandatory must be a list of node-name atoms but found "
             "integer 1");
  }
  SUBCASE("a timeout that is not a non-negative integer or infinity") {
    const std::string prefix = "sys.config:9:26: sync_nodes_timeout must be a non-negative integer "
                               "or infinity but found ";
    CHECK(error_of(tutorial_with("5000", "-1")) == prefix + "integer -1");
    CHECK(error_of(tutorial_with("5000", "\"5000\"")) == prefix + "string \"5000\"");
    CHECK(error_of(tutorial_with("5000", "5.0")) == prefix + "float 5.0");
    CHECK(error_of(tutorial_with("5000", "forever")) == prefix + "atom 'forever'");
    CHECK(error_of(tutorial_with("5000", "[]")) == prefix + "an empty list");
  }
  SUBCASE("a setting that is not {Key, Value}") {
    CHECK(error_of("[{kernel, [sync_nodes_timeout]}].")
          == "sys.config:1:12: each setting of kernel must be a {Key, Value} tuple but found atom "
             "'sync_nodes_timeout'");
    CHECK(error_of("[{kernel, [{\"sync_nodes_timeout\", 1}]}].")
          == "sys.config:1:13: a setting name must be an atom but found string "
             "\"sync_nodes_timeout\"");
  }
  SUBCASE("a setting given twice") {
    CHECK(error_of("[{kernel, [{sync_nodes_timeout, 1}, {sync_nodes_timeout, 2}]}].")
          == "sys.config:1:38: duplicate setting sync_nodes_timeout of kernel");
  }
}

TEST_CASE("load_sys_config reports a file it cannot read, or the file's errors") {
  const temp_dir dir;
  SUBCASE("a missing file, named with .config appended") {
    const auto missing = (dir.path / "missing").string();
    CHECK(load_sys_config(missing).error
          == missing + ".config: cannot read: No such file or directory");
  }
  SUBCASE("a directory") {
    std::filesystem::create_directory(dir.path / "dir.config");
    const auto directory = (dir.path / "dir.config").string();
    CHECK(load_sys_config(directory).error == directory + ": cannot read: Is a directory");
  }
  SUBCASE("a file with a syntax error") {
    const auto path = dir.write("broken.config", "[{kernel, []}]\n");
    CHECK(load_sys_config((dir.path / "broken").string()).error
          == path + ":1:15: unexpected end of input, expected '.'");
  }
}

TEST_CASE("erl_config_path finds the file named after -config") {
  SUBCASE("the file") {
    CHECK(erl_config_path("-config sys.config") == "sys.config");
    CHECK(erl_config_path("-config sys -other flags") == "sys");
    CHECK(erl_config_path("  -config    sys.config  ") == "sys.config");
    CHECK(erl_config_path("-name a@h -config\tdir/sys\n-setcookie x") == "dir/sys");
    CHECK(erl_config_path("-config a b") == "a");
    CHECK(erl_config_path("-config a -config b") == "a");
  }
  SUBCASE("no -config at all") {
    CHECK(erl_config_path("") == std::nullopt);
    CHECK(erl_config_path("   ") == std::nullopt);
    CHECK(erl_config_path("-name a@h -setcookie x") == std::nullopt);
    CHECK(erl_config_path("-configure sys") == std::nullopt);
    CHECK(erl_config_path("x-config sys") == std::nullopt);
  }
  SUBCASE("-config without a file name is an empty path, not nullopt") {
    CHECK(erl_config_path("-config") == "");
    CHECK(erl_config_path("-config   ") == "");
    CHECK(erl_config_path("-config -other flags") == "");
    CHECK(erl_config_path("-config +P 1000") == "");
  }
}

} // namespace watercooler
