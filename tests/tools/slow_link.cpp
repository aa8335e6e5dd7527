// dals-test-slow-link: a host's network cable with delay and loss, in user
// space, for tools/local-hosts/hosts.sh `slow` (docs/multi-host.md).
//
// `tc netem` would do this in the kernel, but kernels built without
// sch_netem (this project's development VM) have no qdisc that delays or
// drops. So the cable becomes two TAP devices, one the host's eth0 inside
// its network namespace and one the bridge port inside the switch's, and
// this process carries Ethernet frames between them: frames the host sends
// wait DELAY and are dropped with probability LOSS before they reach the
// switch (as netem on the host's eth0 would: its egress only); frames to
// the host pass at once. A TAP without offloads hands over frames of at
// most the MTU, so every frame is one wire packet.
//
//   dals-test-slow-link --host-netns PATH --switch-netns PATH --switch-dev NAME
//                       [--delay-ms D] [--loss-percent L] [--seed S] [--limit FRAMES]
//
// Creates `eth0` in the host's namespace and NAME in the switch's (both
// down: the caller sets addresses, MAC, bridge and `up`), prints "ready",
// and forwards until SIGTERM or SIGINT; then prints one line of counts:
// "frames_to_switch N dropped_loss N dropped_limit N frames_to_host N".
// Loss is drawn from a fixed-seed generator, so a run drops the same
// frames of the same sequence. At most --limit frames (default 10000, as
// netem's default limit of 1000 at 10x the rate) wait; more are dropped.
// Exit 0 after a signal, 1 on an error (one line naming what failed), 2 on
// bad usage.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "dals-test-slow-link: error: %s\n", what.c_str());
  std::exit(1);
}
[[noreturn]] void usage(const std::string& what) {
  std::fprintf(stderr, "dals-test-slow-link: error: %s (see the header of tests/tools/slow_link.cpp)\n", what.c_str());
  std::exit(2);
}

// open_tap_in NETNS NAME: a TAP device NAME created inside the network
// namespace at path NETNS (the descriptor stays ours wherever we move).
int open_tap_in(const std::string& netns, const std::string& name) {
  const int ns = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) fail("cannot open network namespace " + netns + ": " + std::strerror(errno));
  if (setns(ns, CLONE_NEWNET) != 0) fail("cannot enter network namespace " + netns + ": " + std::strerror(errno));
  close(ns);
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) fail(std::string("cannot open /dev/net/tun: ") + std::strerror(errno));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (name.size() >= IFNAMSIZ) usage("device name too long: " + name);
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) fail("cannot create TAP " + name + " in " + netns + ": " + std::strerror(errno));
  if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) fail(std::string("fcntl: ") + std::strerror(errno));
  return fd;
}

std::int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

struct Frame {
  std::int64_t due_ns;
  std::vector<unsigned char> bytes;
};

struct Options {
  std::string host_netns, switch_netns, switch_dev;
  double delay_ms = 0, loss_percent = 0;
  std::uint64_t seed = 1;
  std::size_t limit = 10000;
};

double parse_number(const char* flag, const char* text, double low, double high) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v >= low && v <= high))
    usage(std::string(flag) + " '" + text + "': not a number in [" + std::to_string(low) + ", " + std::to_string(high) +
          "]");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const char* value = argv[++i];
    if (flag == "--host-netns")
      o.host_netns = value;
    else if (flag == "--switch-netns")
      o.switch_netns = value;
    else if (flag == "--switch-dev")
      o.switch_dev = value;
    else if (flag == "--delay-ms")
      o.delay_ms = parse_number("--delay-ms", value, 0, 60000);
    else if (flag == "--loss-percent")
      o.loss_percent = parse_number("--loss-percent", value, 0, 100);
    else if (flag == "--seed")
      o.seed = static_cast<std::uint64_t>(parse_number("--seed", value, 0, 1e15));
    else if (flag == "--limit")
      o.limit = static_cast<std::size_t>(parse_number("--limit", value, 1, 1e7));
    else
      usage("unknown option " + flag);
  }
  if (o.host_netns.empty() || o.switch_netns.empty() || o.switch_dev.empty())
    usage("--host-netns, --switch-netns and --switch-dev are required");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  // The switch's namespace last: this process then lives there, and
  // `hosts.sh down` ends it with the switch's other processes.
  const int host_fd = open_tap_in(o.host_netns, "eth0");
  const int switch_fd = open_tap_in(o.switch_netns, o.switch_dev);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("ready\n");
  std::fflush(stdout);

  const auto delay_ns = static_cast<std::int64_t>(o.delay_ms * 1e6);
  std::mt19937_64 rng(o.seed);
  std::bernoulli_distribution lose(o.loss_percent / 100.0);
  std::deque<Frame> waiting;  // host -> switch, in order of arrival (so of due time)
  std::vector<unsigned char> buffer(65536);
  std::uint64_t to_switch = 0, dropped_loss = 0, dropped_limit = 0, to_host = 0;

  while (!g_stop) {
    // Wake for the next frame due, or for input.
    timespec wait{1, 0};
    if (!waiting.empty()) {
      const std::int64_t left = std::max<std::int64_t>(0, waiting.front().due_ns - now_ns());
      wait = {static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
    }
    pollfd fds[2] = {{host_fd, POLLIN, 0}, {switch_fd, POLLIN, 0}};
    const int ready = ppoll(fds, 2, &wait, nullptr);
    if (ready < 0 && errno != EINTR) fail(std::string("poll: ") + std::strerror(errno));
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      for (;;) {
        const ssize_t got = read(host_fd, buffer.data(), buffer.size());
        if (got <= 0) break;
        if (lose(rng)) {
          ++dropped_loss;
        } else if (waiting.size() >= o.limit) {
          ++dropped_limit;
        } else if (delay_ns == 0) {
          if (write(switch_fd, buffer.data(), static_cast<std::size_t>(got)) == got) ++to_switch;
        } else {
          waiting.push_back({now_ns() + delay_ns, std::vector<unsigned char>(buffer.begin(), buffer.begin() + got)});
        }
      }
    }
    if (ready > 0 && (fds[1].revents & POLLIN)) {
      for (;;) {
        const ssize_t got = read(switch_fd, buffer.data(), buffer.size());
        if (got <= 0) break;
        if (write(host_fd, buffer.data(), static_cast<std::size_t>(got)) == got) ++to_host;
      }
    }
    const std::int64_t t = now_ns();
    while (!waiting.empty() && waiting.front().due_ns <= t) {
      const auto& bytes = waiting.front().bytes;
      if (write(switch_fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) ++to_switch;
      waiting.pop_front();
    }
  }
  std::printf("frames_to_switch %llu dropped_loss %llu dropped_limit %llu frames_to_host %llu\n",
              static_cast<unsigned long long>(to_switch), static_cast<unsigned long long>(dropped_loss),
              static_cast<unsigned long long>(dropped_limit), static_cast<unsigned long long>(to_host));
  return 0;
}
