-- Idempotency keys: a caller's Idempotency-Key per route, written in the same transaction as the
-- create it guards (a failed create leaves no key, a concurrent duplicate waits on the primary key
-- until the first commits). Only a SHA-256 of the request body is kept, with the first answer.
-- Rows expire after 24 hours: keyed creates sweep expired rows in small batches (expires_at index).

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "owner_id" UUID NOT NULL,
    "route" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "response_status" INTEGER,
    "response_body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("owner_id","route","key")
);

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
