// Package dnstest is an in-process DNS server for tests of the address
// check (claim.Service.CheckAddress): it speaks the real protocol (UDP and
// TCP) on the loopback address, so the check runs through Go's own resolver
// as it does against a real one, and never asks the network.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Domain is what the server knows of one name.
type Domain struct {
	MX     []string // mail exchanger host names
	NullMX bool     // a single MX of "." (RFC 7505: no mail accepted)
	A      []string // IPv4 addresses
	AAAA   []string // IPv6 addresses
	// Silent: queries for the name get no answer at all, as from a DNS
	// server that is down or a network that drops them.
	Silent bool
}

// Server answers for the domains it was started with: the records given,
// an empty answer (NODATA) for a type it has none of, and NXDOMAIN for any
// other name.
type Server struct {
	udp, tcp *dns.Server
	addr     string // UDP and TCP
	zone     map[string]Domain
	queries  atomic.Int64
	mu       sync.Mutex
	asked    []string
}

// Start runs a server for zone (names without the final dot, any case)
// until the test ends.
func Start(t testing.TB, zone map[string]Domain) *Server {
	t.Helper()
	s := &Server{zone: map[string]Domain{}}
	for name, d := range zone {
		s.zone[dns.Fqdn(strings.ToLower(name))] = d
	}
	pc, ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	s.addr = pc.LocalAddr().String()
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	var wg sync.WaitGroup
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.ActivateAndServe()
		}()
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the DNS server did not start")
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.udp.ShutdownContext(ctx)
		s.tcp.ShutdownContext(ctx)
		wg.Wait()
	})
	return s
}

// listen takes one port on the loopback address for both UDP and TCP, as
// a DNS server has: a resolver told "127.0.0.1:PORT" tries TCP on the same
// port when an answer does not fit a datagram.
func listen() (net.PacketConn, net.Listener, error) {
	var last error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		last = err
	}
	return nil, nil, last
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	s.queries.Add(1)
	if len(r.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	s.asked = append(s.asked, dns.TypeToString[q.Qtype]+" "+name)
	s.mu.Unlock()
	d, ok := s.zone[name]
	if d.Silent {
		return // no answer: the client waits for its timeout
	}
	m := new(dns.Msg)
	m.SetReply(r)
	// Authoritative with recursion: Go's resolver takes an empty answer
	// without either for a lame referral, not for "no such record".
	m.Authoritative, m.RecursionAvailable = true, true
	if !ok {
		m.Rcode = dns.RcodeNameError
		w.WriteMsg(m)
		return
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	switch q.Qtype {
	case dns.TypeMX:
		if d.NullMX {
			m.Answer = append(m.Answer, &dns.MX{Hdr: hdr(dns.TypeMX), Preference: 0, Mx: "."})
		}
		for i, host := range d.MX {
			m.Answer = append(m.Answer, &dns.MX{Hdr: hdr(dns.TypeMX), Preference: uint16(10 * (i + 1)), Mx: dns.Fqdn(host)})
		}
	case dns.TypeA:
		for _, a := range d.A {
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: net.ParseIP(a).To4()})
		}
	case dns.TypeAAAA:
		for _, a := range d.AAAA {
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: net.ParseIP(a)})
		}
	}
	w.WriteMsg(m)
}

// Resolver is a Go resolver that asks this server whatever the machine's
// resolver configuration names.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			if strings.HasPrefix(network, "tcp") {
				return d.DialContext(ctx, "tcp", s.addr)
			}
			return d.DialContext(ctx, "udp", s.addr)
		},
	}
}

// Addr is the server's address, "127.0.0.1:PORT" (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Queries is how many queries the server has received.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Asked lists the queries received, as "TYPE name." in order.
func (s *Server) Asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}
