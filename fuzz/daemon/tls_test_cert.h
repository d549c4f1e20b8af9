// The TLS test identity of the daemon fuzz targets: a self-signed P-256 certificate for
// "localhost" (also its own CA), valid 2000-01-01 to 2100-01-01 so that it neither expires nor
// fails on a machine whose clock is behind, and its private key. Test material only: it protects
// nothing. Made with the openssl tool (3.0), `openssl ca -selfsign -startdate 20000101000000Z
// -enddate 21000101000000Z` over an EC key, with subjectAltName DNS:localhost, because
// `openssl req -x509` (what tests/daemon/daemon_security_test.cc runs per test) cannot backdate.
#pragma once

namespace hashmatch::fuzz {

inline constexpr const char* kTlsTestCert = R"(-----BEGIN CERTIFICATE-----
MIIBYTCCAQegAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv
c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPn9k4NOjiHAVDxG
gyxKDU7WGl7d5OqdHb4w+K8WWjsZvEzajWmXKB1ZU70Hp6hDxaoNYd5w7Je+ILX/
+jvFmpWjSDBGMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTADAQH/
MB0GA1UdDgQWBBRH1WnaRwYUTkuzJLYylQhWglM4GzAKBggqhkjOPQQDAgNIADBF
AiA2dzzfFRpXvQrv16BiDGOOJUFLZ0Cu0/i+gmxp5Gjg5wIhANSswoxoic7sj6aG
n/3BnMkZ6tnWG9lt3vZpAvqBqCj/
-----END CERTIFICATE-----
)";

inline constexpr const char* kTlsTestKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyoObuUmFCpY0tUuH
puK6K6tlNmjx6cyAKeHWSL0nJoWhRANCAAT5/ZODTo4hwFQ8RoMsSg1O1hpe3eTq
nR2+MPivFlo7GbxM2o1plygdWVO9B6eoQ8WqDWHecOyXviC1//o7xZqV
-----END PRIVATE KEY-----
)";

}  // namespace hashmatch::fuzz
