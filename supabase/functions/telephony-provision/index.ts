/**
 * Admin API for hotline numbers: provision (buy, point at the hotline, record)
 * and release, each as a persisted transaction with rollback; read a
 * transaction; run the resumer. Admin key only; every request audited.
 */
import { serveAdminApi } from "../_shared/admin/pipeline.ts";
import { provisioningApi } from "../_shared/provisioning/api.ts";

Deno.serve(serveAdminApi(provisioningApi()));
