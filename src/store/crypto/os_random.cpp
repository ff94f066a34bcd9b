// Gives a DuckDB instance an encryption module that may write encrypted files.
//
// The bundled DuckDB encrypts with mbedtls's AES-GCM but, built without the httpfs extension
// (OpenSSL), refuses to *write* encrypted files: its mbedtls module draws nonces and keys from a
// non-cryptographic generator (`RandomEngine`), so it is read-only unless one sets
// `force_mbedtls_unsafe`. That generator is the only weakness: the cipher itself is mbedtls's.
// This module keeps mbedtls's AES and replaces the generator with the operating system's
// (getrandom(2) / getentropy(3)), then installs itself as the instance's encryption module — what
// httpfs does with OpenSSL's. See docs/operations.md ("Encrypted workspaces").

#include "duckdb/main/capi/capi_internal.hpp"
#include "duckdb/main/config.hpp"
#include "duckdb/main/database.hpp"
#include "mbedtls_wrapper.hpp"

#include <cerrno>
#include <cstring>
#if defined(__linux__)
#include <sys/random.h>
#elif defined(__APPLE__)
#include <sys/random.h>
#include <unistd.h>
#endif

namespace {

using duckdb::data_ptr_t;
using duckdb::idx_t;
using duckdb_mbedtls::MbedTlsWrapper;

void FillFromOs(data_ptr_t data, idx_t len) {
	while (len > 0) {
#if defined(__linux__)
		auto got = getrandom(data, len, 0);
		if (got < 0) {
			if (errno == EINTR) {
				continue;
			}
			throw duckdb::IOException("cannot read the operating system's random generator: %s", strerror(errno));
		}
		data += got;
		len -= static_cast<idx_t>(got);
#elif defined(__APPLE__)
		auto chunk = len < 256 ? len : 256;
		if (getentropy(data, chunk) != 0) {
			throw duckdb::IOException("cannot read the operating system's random generator: %s", strerror(errno));
		}
		data += chunk;
		len -= chunk;
#else
#error "scudo's encryption module needs getrandom or getentropy"
#endif
	}
}

class OsRandomAesState : public MbedTlsWrapper::AESStateMBEDTLS {
public:
	explicit OsRandomAesState(duckdb::unique_ptr<duckdb::EncryptionStateMetadata> metadata)
	    : AESStateMBEDTLS(std::move(metadata)) {
	}

	void GenerateRandomData(data_ptr_t data, idx_t len) override {
		FillFromOs(data, len);
	}
};

class OsRandomAesFactory : public MbedTlsWrapper::AESStateMBEDTLSFactory {
public:
	duckdb::shared_ptr<duckdb::EncryptionState>
	CreateEncryptionState(duckdb::unique_ptr<duckdb::EncryptionStateMetadata> metadata) const override {
		return duckdb::make_shared_ptr<OsRandomAesState>(std::move(metadata));
	}
};

} // namespace

extern "C" {

// Installs the module on `db` (a `duckdb_database` from the C API). Returns 0 on success.
int scudo_install_encryption(duckdb_database db) {
	if (!db) {
		return 1;
	}
	try {
		auto wrapper = reinterpret_cast<duckdb::DatabaseWrapper *>(db);
		auto &config = duckdb::DBConfig::GetConfig(*wrapper->database->instance);
		config.encryption_util = duckdb::make_shared_ptr<OsRandomAesFactory>();
		return 0;
	} catch (...) {
		return 2;
	}
}
}
