-- Encrypted off-site copies: a profile with `encrypt_to:` sends every file of its backups to
-- its repositories encrypted to those age recipients. Such a copy is committed by its
-- `encryption.json` (each stored file's size and the SHA-256 of its ciphertext), whose own
-- SHA-256 is kept here: the anchor that lets a host without the private key read the copy
-- back and prove every byte.

ALTER TABLE orchestrator.backup_copies
    ADD COLUMN encrypted boolean NOT NULL DEFAULT false,
    ADD COLUMN encryption_sha256 text CHECK (encryption_sha256 ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT backup_copies_encrypted_present_check
        CHECK (state <> 'present' OR NOT encrypted OR encryption_sha256 IS NOT NULL);

COMMENT ON COLUMN orchestrator.backup_copies.encryption_sha256 IS
    'SHA-256 of the copy''s encryption.json (the ciphertext hashes), for encrypted copies.';
