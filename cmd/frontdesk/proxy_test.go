package main

import (
	"net/http"
	"testing"
)

func TestClientAddrBehindTrustedProxy(t *testing.T) {
	proxies, err := parseTrustedProxies("127.0.0.1, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.9:5000", "", "203.0.113.9"},                      // direct
		{"203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},          // an untrusted peer cannot claim another address
		{"127.0.0.1:5000", "198.51.100.1", "198.51.100.1"},           // through the proxy
		{"127.0.0.1:5000", "6.6.6.6, 198.51.100.1", "198.51.100.1"},  // the client's own prefix proves nothing
		{"127.0.0.1:5000", "198.51.100.1, 10.1.2.3", "198.51.100.1"}, // two proxies
		{"127.0.0.1:5000", "", "127.0.0.1"},                          // the proxy itself
		{"127.0.0.1:5000", "not-an-ip", "127.0.0.1"},                 // garbage
		{"[::ffff:127.0.0.1]:5000", "2001:db8::1", "2001:db8::1"},    // mapped IPv4 peer
	} {
		r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := proxies.clientAddr(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if _, err := parseTrustedProxies("10.0.0.0/8, proxy.internal"); err == nil {
		t.Error("a host name was accepted as a trusted proxy")
	}
}
