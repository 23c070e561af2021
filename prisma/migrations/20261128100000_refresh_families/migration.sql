-- Refresh families: revocation moves from the token rows to one row per login, which every rotation
-- locks and checks in its transaction. Marking existing token rows could not reach a token that a
-- rotation in flight inserted a moment later (the thief, logout and password-change races).

-- CreateTable
CREATE TABLE "refresh_families" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "refresh_families_pkey" PRIMARY KEY ("id")
);

-- One family per existing family_id. Rows were only ever revoked family by family, so a family with
-- any revoked row was revoked: it stays revoked, including any token a lost race left unrevoked.
INSERT INTO "refresh_families" ("id", "user_id", "expires_at", "revoked_at", "created_at")
SELECT
    "family_id",
    (array_agg("user_id" ORDER BY "created_at"))[1],
    max("expires_at"),
    min("revoked_at"),
    min("created_at")
FROM "refresh_sessions"
GROUP BY "family_id";

-- AlterTable
ALTER TABLE "refresh_sessions" DROP COLUMN "revoked_at";

-- CreateIndex
CREATE INDEX "refresh_families_user_id_idx" ON "refresh_families"("user_id");

-- AddForeignKey
ALTER TABLE "refresh_families" ADD CONSTRAINT "refresh_families_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refresh_sessions" ADD CONSTRAINT "refresh_sessions_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "refresh_families"("id") ON DELETE CASCADE ON UPDATE CASCADE;
