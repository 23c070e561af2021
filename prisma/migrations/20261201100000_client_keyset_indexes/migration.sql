-- Keyset paging of the client list, by the after cursor: every sort must be one index range scan
-- from the cursor on, with the id tie-breaker in the index. Newest first already is one, on
-- owner_id, created_at DESC, id DESC, read backward for oldest first. The name sort gets id added,
-- so a row comparison on name and id starts inside the index instead of sorting all of the owner's
-- rows. name keeps the ICU collation of its column, the order the list promises.

-- CreateIndex
CREATE INDEX "clients_owner_id_name_id_idx" ON "clients"("owner_id", "name", "id");

-- DropIndex
DROP INDEX "clients_owner_id_name_idx";
