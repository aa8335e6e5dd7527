#include "dals/core/option_table.hpp"

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {
namespace po = boost::program_options;

namespace detail {

std::int64_t parse_integer(const std::string& option, const std::string& text, std::int64_t lo, std::int64_t hi) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || end == text.c_str()) throw Error(option + ": '" + text + "' is not an integer");
  if (errno == ERANGE || value < lo || value > hi)
    throw Error(option + ": " + text + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return value;
}

std::uint64_t parse_unsigned(const std::string& option, const std::string& text) {
  if (!text.empty() && text[0] == '-') throw Error(option + " must be >= 0, got " + text);
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || end == text.c_str()) throw Error(option + ": '" + text + "' is not an integer");
  if (errno == ERANGE) throw Error(option + ": " + text + " is out of range");
  return value;
}

double parse_double(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || end == text.c_str()) throw Error(option + ": '" + text + "' is not a number");
  return value;
}

void bad_choice(const std::string& option, const std::string& text, const std::string& choices) {
  throw Error(option + " must be one of " + choices + ", got '" + text + "'");
}

}  // namespace detail

ParseOutcome parse_rows(const std::vector<OptionRow>& rows, const std::string& usage, const std::string& version,
                        const std::vector<std::string>& positional, const std::string& config_option, int argc,
                        const char* const* argv, const std::vector<std::string>& defaults,
                        const std::function<void(std::size_t row, const std::vector<std::string>&)>& assign,
                        std::string& text) {
  // Boost only splits the command line: every value is taken as text and
  // parsed by the table (so messages read alike), defaults are the struct's.
  std::vector<std::string> group_names;
  std::map<std::string, po::options_description> groups;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const OptionRow& row = rows[r];
    if (!groups.count(row.group)) {
      group_names.push_back(row.group);
      groups.emplace(row.group, po::options_description(row.group));
    }
    po::options_description& g = groups.at(row.group);
    if (row.kind == OptionRow::Kind::flag) {
      g.add_options()(row.names.c_str(), po::bool_switch(), row.help.c_str());
    } else if (row.kind == OptionRow::Kind::list) {
      g.add_options()(row.names.c_str(), po::value<std::vector<std::string>>()->composing(), row.help.c_str());
    } else if (defaults[r].empty()) {
      g.add_options()(row.names.c_str(), po::value<std::string>(), row.help.c_str());
    } else {
      g.add_options()(row.names.c_str(), po::value<std::string>()->default_value(defaults[r]), row.help.c_str());
    }
  }
  // --help and --version close the "General" group (made if the table has none).
  if (!groups.count("General")) groups.emplace("General", po::options_description("General"));
  std::erase(group_names, "General");
  group_names.push_back("General");
  groups.at("General").add_options()("help,h", "show this help");
  if (!version.empty()) groups.at("General").add_options()("version", "show the version");
  po::options_description all(usage);
  for (const auto& name : group_names) all.add(groups.at(name));

  po::positional_options_description bare;
  for (std::size_t p = 0; p < positional.size(); ++p)
    bare.add(positional[p].c_str(), p + 1 < positional.size() ? 1 : -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(bare).run(), vm);
    if (!config_option.empty() && vm.count(config_option)) {
      const std::string path = vm[config_option].as<std::string>();
      try {
        require_regular_file(path);
      } catch (const Error& e) {
        throw UsageError{e.what()};
      }
      std::ifstream file(path);
      if (!file) throw UsageError{path + ": cannot open config file"};
      try {
        // Stored after the command line: po::store keeps the first value, so the command line wins.
        po::store(po::parse_config_file(file, all), vm);
      } catch (const po::error& e) {
        throw UsageError{path + ": " + e.what()};
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError{e.what()};
  }
  if (vm.count("help")) {
    std::ostringstream out;
    out << all;
    text = out.str();
    return ParseOutcome::help_shown;
  }
  if (!version.empty() && vm.count("version")) {
    text = version + "\n";
    return ParseOutcome::help_shown;
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::string name = rows[r].long_name();
    if (!vm.count(name) || vm[name].defaulted()) continue;
    std::vector<std::string> values;
    if (rows[r].kind == OptionRow::Kind::flag)
      values.push_back(vm[name].as<bool>() ? "true" : "false");
    else if (rows[r].kind == OptionRow::Kind::list)
      values = vm[name].as<std::vector<std::string>>();
    else
      values.push_back(vm[name].as<std::string>());
    try {
      assign(r, values);
    } catch (const Error& e) {
      throw UsageError{e.what()};
    }
  }
  return ParseOutcome::run;
}

}  // namespace dals
