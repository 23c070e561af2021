-- The two sort indexes carry status only, not search_text. With search_text included, a client whose
-- name, email and company are long and written in four-byte characters (what the API accepts: 200,
-- 254 and 200 characters) made an index row past btree's 2,704-byte limit, and its create failed.
-- A search now tests each row it walks past in the table instead of in the index. Its trigram index
-- is unchanged.

-- DropIndex
DROP INDEX "clients_owner_id_created_at_id_idx";

-- CreateIndex
CREATE INDEX "clients_owner_id_created_at_id_idx" ON "clients"("owner_id", "created_at" DESC, "id" DESC) INCLUDE ("status");

-- DropIndex
DROP INDEX "clients_owner_id_name_id_idx";

-- CreateIndex
CREATE INDEX "clients_owner_id_name_id_idx" ON "clients"("owner_id", "name", "id") INCLUDE ("status");
