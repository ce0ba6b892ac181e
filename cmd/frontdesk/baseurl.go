package main

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// defaultHTTPAddr is where the customers' web listens unless told: this
// machine only, which is where the default --base-url (localhost) points.
// Listening for other machines takes an --http-addr, and then a --base-url
// they can open (see checkBaseURL).
const defaultHTTPAddr = "127.0.0.1:8080"

// checkBaseURL compares the address emailed links use (--base-url) with the
// address the customers' web is bound to, and says in words where links
// would not reach it. given: --base-url (or FRONTDESK_BASE_URL) was set;
// proxied: --trusted-proxies names a reverse proxy, whose public address
// rightly differs from the bound one.
//
// The one refusal: the default base URL (localhost) while listening for
// other machines. Every link mailed then opens nothing for the customer,
// and nobody notices until they write in; a server started so is a
// forgotten --base-url, never a choice. Anything else might be right (a
// port forward, a proxy this process cannot see), so it is a warning.
func checkBaseURL(base string, given bool, bound net.Addr, proxied bool) (refuse error, warnings []string) {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("--base-url %q is not a URL such as https://desk.example.com", base), nil
	}
	tcp, ok := bound.(*net.TCPAddr)
	if !ok {
		return nil, nil
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	boundPort := strconv.Itoa(tcp.Port)
	linkLocal := isLoopbackHost(host)
	listenLocal := tcp.IP.IsLoopback()
	where := listenWords(tcp)

	switch {
	case linkLocal && !listenLocal && !given:
		return fmt.Errorf("--base-url is not set, so links in emails would go to %s, which opens only on this machine, while the customers' web listens on %s; "+
			"pass --base-url with the address customers open (such as https://desk.example.com), or --http-addr 127.0.0.1:%s to keep it on this machine", base, where, boundPort), nil
	case linkLocal && !listenLocal:
		warnings = append(warnings, fmt.Sprintf("links in emails go to %s, which opens only on this machine, but the customers' web listens on %s: "+
			"customers elsewhere cannot open them; set --base-url to the address customers open", base, where))
	case linkLocal && port != boundPort && !proxied:
		warnings = append(warnings, fmt.Sprintf("links in emails go to port %s (%s), but the customers' web listens on port %s: "+
			"they reach nothing unless something forwards port %s; set --base-url http://localhost:%s, or --http-addr 127.0.0.1:%s", port, base, boundPort, port, boundPort, port))
	case !linkLocal && listenLocal && !proxied:
		warnings = append(warnings, fmt.Sprintf("links in emails go to %s, but the customers' web listens on %s, which only this machine reaches: "+
			"put a reverse proxy on this machine in front and name it in --trusted-proxies, or listen where customers reach it (--http-addr)", base, where))
	case !linkLocal && !proxied:
		if u.Scheme == "https" {
			warnings = append(warnings, fmt.Sprintf("links in emails use https (%s), but frontdesk serves plain HTTP on %s: "+
				"put a reverse proxy that speaks HTTPS in front and name it in --trusted-proxies", base, where))
		} else if port != boundPort {
			warnings = append(warnings, fmt.Sprintf("links in emails go to port %s (%s), but the customers' web listens on port %s: "+
				"they reach nothing unless something forwards port %s; set --base-url with port %s, or --http-addr :%s", port, base, boundPort, port, boundPort, port))
		}
		if ip := net.ParseIP(host); ip != nil && !tcp.IP.IsUnspecified() && !ip.Equal(tcp.IP) {
			warnings = append(warnings, fmt.Sprintf("links in emails go to the address %s, but the customers' web listens on %s only", host, tcp.IP))
		}
	}
	return nil, warnings
}

// isLoopbackHost is whether a URL's host names this machine only.
func isLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// listenWords says where a listener can be reached from.
func listenWords(a *net.TCPAddr) string {
	switch {
	case a.IP.IsUnspecified():
		return fmt.Sprintf("port %d of every address of this machine (%s)", a.Port, a)
	case a.IP.IsLoopback():
		return fmt.Sprintf("%s (this machine only)", a)
	}
	return a.String()
}
