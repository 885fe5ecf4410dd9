package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// scramMechanism is the only SASL mechanism the server offers.
const scramMechanism = "SCRAM-SHA-256"

// errAuth is under every failed authentication: the client gets 28P01
// and the same message whether the user is unknown or the proof wrong.
var errAuth = errors.New("password authentication failed")

// verifier is what the server knows of a user's password (RFC 5802 §3).
type verifier struct {
	salt       []byte
	iterations int
	storedKey  []byte
	serverKey  []byte
}

// scramServer is the server side of one SCRAM-SHA-256 exchange:
//
//	client-first   n,,n=user,r=cnonce
//	server-first   r=cnonce+snonce,s=salt,i=iterations
//	client-final   c=biws,r=cnonce+snonce,p=proof
//	server-final   v=signature
//
// The proof is ClientKey XOR HMAC(StoredKey, AuthMessage), AuthMessage
// being client-first-bare "," server-first "," client-final without the
// proof; the server checks SHA-256(ClientKey) = StoredKey and proves
// itself with HMAC(ServerKey, AuthMessage). Channel binding (the -PLUS
// mechanism) is not offered, even over TLS.
type scramServer struct {
	v               verifier
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string // client's and server's
}

// first reads the client-first-message and returns the server-first.
func (s *scramServer) first(msg []byte) ([]byte, error) {
	m := string(msg)
	// gs2-header: cbind-flag "," [authzid] ","
	flag, rest, ok := strings.Cut(m, ",")
	if !ok {
		return nil, fmt.Errorf("scram client-first-message: no gs2 header")
	}
	switch {
	case flag == "n", flag == "y":
	case strings.HasPrefix(flag, "p="):
		return nil, fmt.Errorf("scram: channel binding %s is not supported", flag[2:])
	default:
		return nil, fmt.Errorf("scram client-first-message: bad channel binding flag %q", flag)
	}
	authzid, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, fmt.Errorf("scram client-first-message: gs2 header is not closed")
	}
	if authzid != "" {
		return nil, fmt.Errorf("scram: an authorization identity is not supported")
	}
	s.gs2Header = m[:len(m)-len(bare)]
	s.clientFirstBare = bare
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, fmt.Errorf("scram client-first-message: want n=user,r=nonce")
	}
	cnonce := attrs[1][2:]
	if cnonce == "" || !printable(cnonce) {
		return nil, fmt.Errorf("scram client-first-message: bad nonce")
	}
	var sn [18]byte
	rand.Read(sn[:])
	s.nonce = cnonce + base64.RawStdEncoding.EncodeToString(sn[:])
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.v.salt) + ",i=" + strconv.Itoa(s.v.iterations)
	return []byte(s.serverFirst), nil
}

// final reads the client-final-message, checks the proof and returns the
// server-final-message; a wrong proof is errAuth.
func (s *scramServer) final(msg []byte) ([]byte, error) {
	m := string(msg)
	i := strings.LastIndex(m, ",p=")
	if i < 0 {
		return nil, fmt.Errorf("scram client-final-message: no proof")
	}
	withoutProof, proofB64 := m[:i], m[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || attrs[0] != "c="+base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) {
		return nil, fmt.Errorf("scram client-final-message: channel binding does not match the gs2 header")
	}
	if attrs[1] != "r="+s.nonce {
		return nil, fmt.Errorf("scram client-final-message: nonce does not match")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return nil, fmt.Errorf("scram client-final-message: bad proof")
	}
	authMessage := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	clientSig := hmacSHA256(s.v.storedKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	for k := range clientKey {
		clientKey[k] = proof[k] ^ clientSig[k]
	}
	got := sha256.Sum256(clientKey)
	if len(s.v.storedKey) != sha256.Size || subtle.ConstantTimeCompare(got[:], s.v.storedKey) != 1 {
		return nil, errAuth
	}
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSHA256(s.v.serverKey, authMessage))), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// printable reports whether s holds only printable ASCII other than ','
// (RFC 5802's nonce characters).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

// mockVerifier is the verifier of a user that does not exist: its salt
// is derived from the name and a secret of the server, so that repeated
// attempts see the same salt as for a real user, and its keys match no
// password. A client cannot tell an unknown user from a wrong password.
func mockVerifier(secret []byte, user string) verifier {
	salt := hmacSHA256(secret, "salt:"+user)[:16]
	key := hmacSHA256(secret, "key:"+user)
	return verifier{salt: salt, iterations: 4096, storedKey: key, serverKey: key}
}
