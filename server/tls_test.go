package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// selfSigned returns a TLS configuration with a certificate for
// 127.0.0.1 made for the test.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bpfdb test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// TestTLS: with a certificate, clients that ask for encryption get TLS
// (pgx and psql with sslmode=require); others still connect in the clear.
func TestTLS(t *testing.T) {
	ts := startServer(t, nil, Options{TLS: selfSigned(t)})
	ctx := context.Background()
	for _, mode := range []string{"require", "disable"} {
		url := strings.Replace(ts.url(adminUser, adminPassword), "sslmode=prefer", "sslmode="+mode, 1)
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatalf("sslmode=%s: %v", mode, err)
		}
		_, encrypted := c.PgConn().Conn().(*tls.Conn)
		var n int
		err = c.QueryRow(ctx, "SELECT 6 * 7").Scan(&n)
		c.Close(ctx)
		if err != nil || n != 42 || encrypted != (mode == "require") {
			t.Fatalf("sslmode=%s: %d %v, encrypted %v", mode, n, err, encrypted)
		}
	}
	if psql, err := exec.LookPath("psql"); err == nil {
		host, port, _ := strings.Cut(ts.addr, ":")
		cmd := exec.Command(psql, "-h", host, "-p", port, "-U", adminUser, "-d", "x", "-X", "-A", "-t", "-c", "SELECT 6 * 7")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+adminPassword, "PGSSLMODE=require")
		if out, err := cmd.CombinedOutput(); err != nil || string(out) != "42\n" {
			t.Fatalf("psql over TLS: %v\n%s", err, out)
		}
	}
}
