package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe starts bpfdb serve on a free port with a bootstrap superuser
// from the environment, answers a client (an SSL request is refused with
// 'N'; psql runs a query when it is installed), and stops when its context
// ends as on SIGTERM, keeping the database: a second start finds the user
// and needs no bootstrap.
func TestServe(t *testing.T) {
	t.Setenv("BPFDB_USER", "admin")
	t.Setenv("BPFDB_PASSWORD", "pw")
	path := filepath.Join(t.TempDir(), "s.db")
	for round := range 2 {
		if round == 1 {
			t.Setenv("BPFDB_PASSWORD", "") // the user exists now
		}
		ctx, stop := context.WithCancel(context.Background())
		out, w := io.Pipe()
		var stderr bytes.Buffer
		done := make(chan int, 1)
		go func() {
			done <- serve(ctx, []string{"--db", path, "--listen", "127.0.0.1:0", "--threads", "2"}, w, &stderr)
			w.Close()
		}()
		lines := bufio.NewScanner(out)
		if !lines.Scan() {
			t.Fatalf("no output; stderr:\n%s", stderr.String())
		}
		addr, ok := strings.CutPrefix(lines.Text(), "bpfdb: serving "+path+" on ")
		if !ok {
			t.Fatalf("first line %q", lines.Text())
		}
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.Write([]byte{0, 0, 0, 8, 4, 210, 22, 47}) // SSLRequest
		b := make([]byte, 1)
		if _, err := io.ReadFull(nc, b); err != nil || b[0] != 'N' {
			t.Fatalf("SSL request answered %q, %v", b, err)
		}
		nc.Close()
		if psql, err := exec.LookPath("psql"); err == nil {
			host, port, _ := strings.Cut(addr, ":")
			cmd := exec.Command(psql, "-h", host, "-p", port, "-U", "admin", "-d", "x", "-X", "-A", "-t", "-c", "SELECT 40 + 2")
			cmd.Env = append(os.Environ(), "PGPASSWORD=pw")
			got, err := cmd.CombinedOutput()
			if err != nil || string(got) != "42\n" {
				t.Fatalf("psql: %v\n%s", err, got)
			}
		}
		stop()
		rest, _ := io.ReadAll(out)
		if code := <-done; code != 0 || string(rest) != "bpfdb: stopped\n" {
			t.Fatalf("exit %d, rest of stdout %q, stderr:\n%s", code, rest, stderr.String())
		}
	}
}

// TestServeWithoutUsers: a database without users and no bootstrap user
// is refused, so that no server runs that nobody can log in to.
func TestServeWithoutUsers(t *testing.T) {
	t.Setenv("BPFDB_USER", "")
	t.Setenv("BPFDB_PASSWORD", "")
	var stdout, stderr bytes.Buffer
	code := serve(context.Background(), []string{"--db", ":memory:", "--listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "the database has no users") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestServeTLS: with --tls-cert and --tls-key an SSL request is accepted
// ('S') and the TLS handshake completes with the certificate given.
func TestServeTLS(t *testing.T) {
	t.Setenv("BPFDB_USER", "admin")
	t.Setenv("BPFDB_PASSWORD", "pw")
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "bpfdb serve test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)

	ctx, stop := context.WithCancel(context.Background())
	out, w := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"--db", ":memory:", "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile}, w, &stderr)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("no output; stderr:\n%s", stderr.String())
	}
	addr := lines.Text()[strings.LastIndex(lines.Text(), " ")+1:]
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte{0, 0, 0, 8, 4, 210, 22, 47}) // SSLRequest
	b := make([]byte, 1)
	if _, err := io.ReadFull(nc, b); err != nil || b[0] != 'S' {
		t.Fatalf("SSL request answered %q, %v", b, err)
	}
	tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if got := tc.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "bpfdb serve test" {
		t.Fatalf("certificate of %q", got)
	}
	tc.Close()
	stop()
	io.ReadAll(out)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestServeMetrics: with --metrics the server answers Prometheus scrapes
// at /metrics on its own address, with the server's counters and the
// database's figures, until it stops; a bad --metrics address is refused
// before anything is served.
func TestServeMetrics(t *testing.T) {
	t.Setenv("BPFDB_USER", "admin")
	t.Setenv("BPFDB_PASSWORD", "pw")
	ctx, stop := context.WithCancel(context.Background())
	out, w := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"--db", ":memory:", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0"}, w, &stderr)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	var got []string
	for range 2 {
		if !lines.Scan() {
			t.Fatalf("output %q; stderr:\n%s", got, stderr.String())
		}
		got = append(got, lines.Text())
	}
	url, ok := strings.CutPrefix(got[1], "bpfdb: metrics on ")
	if !strings.HasPrefix(got[0], "bpfdb: serving :memory: on ") || !ok || !strings.HasSuffix(url, "/metrics") {
		t.Fatalf("output %q", got)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	for _, want := range []string{"\nbpfdb_server_queries_total{outcome=\"ok\"} 0\n", "\nbpfdb_memory_limit_bytes ",
		"\nbpfdb_hook_attached{hook=\"unpin\"} 0\n", "\nbpfdb_buffer_hits_total "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the scrape has no %q:\n%s", want, body)
		}
	}
	stop()
	rest, _ := io.ReadAll(out)
	if code := <-done; code != 0 || string(rest) != "bpfdb: stopped\n" {
		t.Fatalf("exit %d, rest of stdout %q, stderr:\n%s", code, rest, stderr.String())
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("metrics served after the stop: %s", resp.Status)
	}

	var stdout bytes.Buffer
	stderr.Reset()
	code := serve(context.Background(), []string{"--db", ":memory:", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:notaport"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "--metrics") || stdout.Len() != 0 {
		t.Fatalf("a bad --metrics address: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
