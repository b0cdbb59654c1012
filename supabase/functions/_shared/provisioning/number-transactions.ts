/**
 * The two telephony transactions, as steps for the runner:
 *
 * provision_number: [create_subaccount] → reserve_number (our row, state
 *   provisioning) → buy_number (Twilio) → configure_webhooks (Twilio) →
 *   activate_number (our rows, state active)
 * release_number: mark_releasing → release_at_twilio → [close_subaccount] →
 *   mark_released (the subaccount is closed when this API created it and
 *   this was its last number)
 *
 * Every Twilio resource we create carries the transaction's tag in its
 * FriendlyName, so an effect whose answer was lost is found again by reading
 * Twilio (`?FriendlyName=`, `?PhoneNumber=`) instead of buying twice.
 */
import type { Sql } from "../platform/db.ts";
import {
  accountPath,
  ACCOUNTS_PATH,
  type TwilioResource,
  TwilioRestClient,
  TwilioRestError,
} from "../twilio/rest-client.ts";
import { type Json, StepFailure, type StepState, type TransactionKind } from "./runner.ts";

type JsonObject = { [key: string]: Json };

/** The number a transaction left to a person is flagged for operators (number_provisioning_status). */
const flagNumber = (tx: Sql, transactionId: string) =>
  tx`update public.telephony_numbers set state = 'needs_attention'
      where last_transaction_id = ${transactionId}`;

export interface NumberStepDeps {
  sql: Sql;
  twilio: TwilioRestClient;
  /** PUBLIC_BASE_URL: where Twilio reaches the functions (ends in /functions/v1). */
  publicBaseUrl: string;
}

/** The slugs a provisioned number's webhooks point at. */
export function webhookUrls(publicBaseUrl: string) {
  const base = publicBaseUrl.replace(/\/+$/, "");
  return {
    VoiceUrl: `${base}/voice-frontdoor`,
    VoiceMethod: "POST",
    VoiceFallbackUrl: `${base}/voice-fallback`,
    VoiceFallbackMethod: "POST",
    StatusCallback: `${base}/voice-status`,
    StatusCallbackMethod: "POST",
    SmsUrl: `${base}/webcomms-sms-reply`,
    SmsMethod: "POST",
  };
}

/**
 * The FriendlyName tag of a transaction's Twilio resources: fits Twilio's 64
 * characters whatever the client's name (`hotline:` + client prefix + id).
 */
export function transactionTag(transactionId: string, client: string): string {
  const prefix = `hotline:${client.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 18)}:`;
  return `${prefix}${transactionId}`.slice(0, 64);
}

/** Translates a Twilio failure into the runner's terms (a refused request had no effect). */
export function stepFailureFromTwilio(e: unknown, fallbackCode = "twilio_failed"): StepFailure {
  if (!(e instanceof TwilioRestError)) {
    return new StepFailure("twilio_unreachable", String(e), { outcomeUnknown: true });
  }
  const { code, errorClass, outcomeUnknown } = e.details;
  const known: Record<number, string> = {
    21421: "invalid_phone_number",
    21422: "number_unavailable",
    21452: "no_numbers_available",
  };
  const stepCode = (code !== undefined && known[code]) ||
    (errorClass === "compliance" ? "twilio_compliance_required" : fallbackCode);
  return new StepFailure(stepCode, e.message, { outcomeUnknown, externalCode: code, errorClass });
}

async function twilioCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw stepFailureFromTwilio(e);
  }
}

const str = (v: Json | undefined): string => (typeof v === "string" ? v : "");

/** The account that owns the number: the new subaccount, else the main account. */
function owningAccount(state: StepState, deps: NumberStepDeps): string {
  return str(state.results.create_subaccount?.accountSid) || deps.twilio.accountSid;
}

/** The number with this tag, when Twilio has it. */
async function findTaggedNumber(
  deps: NumberStepDeps,
  accountSid: string,
  phoneNumber: string,
  tag: string,
): Promise<TwilioResource | undefined> {
  const numbers = await deps.twilio.list(
    accountPath(accountSid, "IncomingPhoneNumbers"),
    "incoming_phone_numbers",
    { PhoneNumber: phoneNumber },
  );
  return numbers.find((n) => n.friendly_name === tag);
}

/**
 * Stores a new subaccount with its auth token as soon as it exists, before
 * any number in it points at the hotline: the voice functions cache "not one
 * of ours" for an account SID (twilio/account.ts), so a webhook arriving
 * before the token was stored would lock the number out for that long.
 */
async function storeSubaccountToken(sql: Sql, account: TwilioResource, s: StepState) {
  const token = typeof account.auth_token === "string" ? account.auth_token : null;
  await sql`
    insert into public.telephony_subaccounts (account_sid, friendly_name, auth_token, client)
    values (${String(account.sid)}, ${transactionTag(s.transactionId, str(s.request.client))},
            ${token}, ${str(s.request.client)})
    on conflict (account_sid) do update set auth_token = excluded.auth_token`;
}

/** The provisioning transaction. */
export function provisionNumberKind(deps: NumberStepDeps): TransactionKind {
  const { sql, twilio } = deps;

  /** Closes a subaccount this transaction created (found by its tag when its SID was lost). */
  const closeSubaccount = async (knownSid: string, friendlyName: string) => {
    let sid = knownSid;
    if (!sid) {
      const accounts = await twilio.list(ACCOUNTS_PATH, "accounts", { FriendlyName: friendlyName });
      const live = accounts.find((a) => a.status !== "closed");
      if (!live) return;
      sid = String(live.sid);
    }
    try {
      // Read first: a close whose answer was lost is not sent again.
      const account = await twilio.get(accountPath(sid));
      if (account.status === "closed") return;
      await twilio.post(accountPath(sid), { Status: "closed" });
    } catch (e) {
      if (e instanceof TwilioRestError && e.status === 404) return;
      throw e;
    }
  };

  return {
    kind: "provision_number",
    onNeedsAttention: flagNumber,
    stepsFor: (request) => [
      ...(request.subaccount === true ? ["create_subaccount"] : []),
      "reserve_number",
      "buy_number",
      "configure_webhooks",
      "activate_number",
    ],
    steps: {
      create_subaccount: {
        name: "create_subaccount",
        plan: (s) => {
          const friendlyName = transactionTag(s.transactionId, str(s.request.client));
          return Promise.resolve({ intent: { friendlyName }, undo: { friendlyName } });
        },
        run: async (intent, s) => {
          const account = await twilioCall(() =>
            twilio.post(ACCOUNTS_PATH, { FriendlyName: str(intent.friendlyName) })
          );
          await storeSubaccountToken(sql, account, s);
          return { accountSid: String(account.sid) };
        },
        reconcile: async (intent, s) => {
          const accounts = await twilio.list(ACCOUNTS_PATH, "accounts", {
            FriendlyName: str(intent.friendlyName),
          });
          const live = accounts.find((a) => a.status !== "closed");
          if (!live) return null;
          await storeSubaccountToken(sql, live, s);
          return { accountSid: String(live.sid) };
        },
        compensate: async (undo, result) => {
          await closeSubaccount(str(result?.accountSid), str(undo.friendlyName));
          // Its numbers were undone before it (reverse order): nothing refers to the row now.
          await sql`delete from public.telephony_subaccounts s
                     where s.friendly_name = ${str(undo.friendlyName)}
                       and not exists (select 1 from public.telephony_numbers n where n.subaccount_id = s.id)`;
        },
      },

      reserve_number: {
        name: "reserve_number",
        plan: async (s) => {
          let candidates: string[];
          if (str(s.request.phoneNumber)) {
            candidates = [str(s.request.phoneNumber)];
          } else {
            const page = await twilioCall(() =>
              twilio.get(
                accountPath(
                  owningAccount(s, deps),
                  `AvailablePhoneNumbers/${str(s.request.country) || "CA"}/Local`,
                ),
                { AreaCode: str(s.request.areaCode), PageSize: "20" },
              )
            );
            candidates = ((page.available_phone_numbers as TwilioResource[] | undefined) ?? [])
              .map((n) => String(n.phone_number));
            if (candidates.length === 0) {
              throw new StepFailure(
                "no_numbers_available",
                `Twilio has no numbers in area code ${str(s.request.areaCode)}`,
                { errorClass: "permanent" },
              );
            }
          }
          return { intent: { candidates }, undo: {} };
        },
        run: async (intent, s) => {
          // The first candidate nobody holds: concurrent provisions in one
          // area code each get a different number (the e164 key decides).
          for (const e164 of (intent.candidates as string[])) {
            const [row] = await sql`
              insert into public.telephony_numbers as n
                (e164, label, client, state, active, sales_target, support_target, last_transaction_id)
              values (${e164}, ${str(s.request.client)}, ${
              str(s.request.client)
            }, 'provisioning', false,
                      ${str(s.request.salesTarget) || null}, ${
              str(s.request.supportTarget) || null
            },
                      ${s.transactionId})
              on conflict (e164) do update
                set label = excluded.label, client = excluded.client, state = 'provisioning',
                    active = false, sales_target = excluded.sales_target,
                    support_target = excluded.support_target, phone_number_sid = null,
                    subaccount_id = null, webhook_base_url = null,
                    last_transaction_id = excluded.last_transaction_id
                where n.state = 'released'
              returning e164`;
            if (row) return { e164: row.e164 };
          }
          throw new StepFailure("number_unavailable", "the number is already on this hotline", {
            errorClass: "permanent",
          });
        },
        reconcile: async (_intent, s) => {
          const [row] = await sql`
            select e164 from public.telephony_numbers
             where last_transaction_id = ${s.transactionId} and state = 'provisioning'`;
          return row ? { e164: row.e164 } : null;
        },
        compensate: async (_undo, _result, s) => {
          await sql`delete from public.telephony_numbers
                     where last_transaction_id = ${s.transactionId} and state = 'provisioning'`;
        },
      },

      buy_number: {
        name: "buy_number",
        plan: (s) => {
          const intent = {
            phoneNumber: str(s.results.reserve_number.e164),
            friendlyName: transactionTag(s.transactionId, str(s.request.client)),
            accountSid: owningAccount(s, deps),
          };
          return Promise.resolve({ intent, undo: intent });
        },
        run: (intent) =>
          twilioCall(async () => {
            const bought = await twilio.post(
              accountPath(str(intent.accountSid), "IncomingPhoneNumbers"),
              { PhoneNumber: str(intent.phoneNumber), FriendlyName: str(intent.friendlyName) },
            );
            return { sid: String(bought.sid) };
          }),
        reconcile: async (intent) => {
          const found = await findTaggedNumber(
            deps,
            str(intent.accountSid),
            str(intent.phoneNumber),
            str(intent.friendlyName),
          );
          return found ? { sid: String(found.sid) } : null;
        },
        compensate: async (undo, result) => {
          let sid = str(result?.sid);
          if (!sid) {
            const found = await findTaggedNumber(
              deps,
              str(undo.accountSid),
              str(undo.phoneNumber),
              str(undo.friendlyName),
            );
            if (!found) return;
            sid = String(found.sid);
          }
          await twilio.delete(accountPath(str(undo.accountSid), `IncomingPhoneNumbers/${sid}`));
        },
      },

      configure_webhooks: {
        name: "configure_webhooks",
        plan: (s) =>
          Promise.resolve({
            intent: {
              sid: str(s.results.buy_number.sid),
              accountSid: owningAccount(s, deps),
              urls: webhookUrls(deps.publicBaseUrl),
            },
            // Releasing the number (buy_number's undo) removes its configuration too.
            undo: null,
          }),
        run: (intent) =>
          twilioCall(async () => {
            await twilio.post(
              accountPath(str(intent.accountSid), `IncomingPhoneNumbers/${str(intent.sid)}`),
              intent.urls as Record<string, string>,
            );
            return { webhookBaseUrl: deps.publicBaseUrl };
          }),
        reconcile: async (intent) => {
          const number = await twilio.get(
            accountPath(str(intent.accountSid), `IncomingPhoneNumbers/${str(intent.sid)}`),
          );
          const urls = intent.urls as Record<string, string>;
          const set = number.voice_url === urls.VoiceUrl && number.sms_url === urls.SmsUrl &&
            number.voice_fallback_url === urls.VoiceFallbackUrl &&
            number.status_callback === urls.StatusCallback;
          return set ? { webhookBaseUrl: deps.publicBaseUrl } : null;
        },
      },

      activate_number: {
        name: "activate_number",
        plan: (s) =>
          Promise.resolve({
            intent: {
              e164: str(s.results.reserve_number.e164),
              sid: str(s.results.buy_number.sid),
              subaccountSid: str(s.results.create_subaccount?.accountSid) || null,
              webhookBaseUrl: str(s.results.configure_webhooks.webhookBaseUrl),
            },
            undo: null,
          }),
        run: async (intent, s) => {
          const subSid = str(intent.subaccountSid);
          let authToken: string | null = null;
          if (subSid) {
            // The subaccount's token signs its numbers' webhooks; it is kept
            // only in telephony_subaccounts, never in the step log. Stored by
            // create_subaccount already; read again here so a transaction
            // begun before that step stored it still ends with the token.
            const account = await twilioCall(() => twilio.get(accountPath(subSid)));
            authToken = typeof account.auth_token === "string" ? account.auth_token : null;
          }
          await sql.begin(async (tx) => {
            let subaccountId: string | null = null;
            if (subSid) {
              const [sub] = await tx`
                insert into public.telephony_subaccounts (account_sid, friendly_name, auth_token, client)
                values (${subSid}, ${transactionTag(s.transactionId, str(s.request.client))},
                        ${authToken}, ${str(s.request.client)})
                on conflict (account_sid) do update set auth_token = excluded.auth_token
                returning id`;
              subaccountId = sub.id;
            }
            await tx`
              update public.telephony_numbers
                 set state = 'active', active = true, phone_number_sid = ${str(intent.sid)},
                     subaccount_id = ${subaccountId}, webhook_base_url = ${
              str(intent.webhookBaseUrl)
            }
               where last_transaction_id = ${s.transactionId} and e164 = ${str(intent.e164)}
                 and state = 'provisioning'`;
          });
          return { e164: str(intent.e164), sid: str(intent.sid) };
        },
        reconcile: async (intent, s) => {
          const [row] = await sql`
            select e164, phone_number_sid from public.telephony_numbers
             where last_transaction_id = ${s.transactionId} and state = 'active'`;
          return row ? { e164: row.e164, sid: row.phone_number_sid ?? str(intent.sid) } : null;
        },
      },
    },
  };
}

/** The release transaction; its request carries the number's row as read at the start. */
export function releaseNumberKind(deps: NumberStepDeps): TransactionKind {
  const { sql, twilio } = deps;
  const numberPath = (s: StepState) =>
    accountPath(
      str(s.request.accountSid) || twilio.accountSid,
      `IncomingPhoneNumbers/${str(s.request.sid)}`,
    );
  return {
    kind: "release_number",
    onNeedsAttention: flagNumber,
    stepsFor: (request) => [
      "mark_releasing",
      "release_at_twilio",
      ...(request.closeSubaccount === true ? ["close_subaccount"] : []),
      "mark_released",
    ],
    steps: {
      mark_releasing: {
        name: "mark_releasing",
        plan: (s) =>
          Promise.resolve({ intent: { e164: str(s.request.e164) }, undo: { state: "active" } }),
        run: async (intent, s) => {
          const [row] = await sql`
            update public.telephony_numbers
               set state = 'releasing', last_transaction_id = ${s.transactionId}
             where e164 = ${str(intent.e164)} and state = 'active'
            returning e164`;
          if (!row) throw new StepFailure("number_not_found", "the number is not active");
          return { e164: row.e164 };
        },
        reconcile: async (intent, s) => {
          const [row] = await sql`
            select e164 from public.telephony_numbers
             where e164 = ${str(intent.e164)} and last_transaction_id = ${s.transactionId}
               and state in ('releasing', 'released')`;
          return row ? { e164: row.e164 } : null;
        },
        compensate: async (_undo, _result, s) => {
          await sql`update public.telephony_numbers set state = 'active'
                     where last_transaction_id = ${s.transactionId} and state = 'releasing'`;
        },
      },

      release_at_twilio: {
        name: "release_at_twilio",
        // Once released, the number is gone: the rest of the release only goes forward.
        pivot: true,
        plan: (s) =>
          Promise.resolve({
            intent: { e164: str(s.request.e164), path: numberPath(s) },
            // A released number cannot be bought back reliably: no undo.
            undo: null,
          }),
        // DELETE is safe to resend; 404 means it is gone already.
        run: (intent) =>
          twilioCall(async () => {
            await twilio.delete(str(intent.path));
            return { released: true };
          }),
        // DELETE is the one write Twilio makes safe to resend: finishing the
        // release beats undoing it (404 = it was released already).
        reconcile: async (intent) => {
          await twilio.delete(str(intent.path));
          return { released: true };
        },
      },

      close_subaccount: {
        name: "close_subaccount",
        plan: (s) =>
          Promise.resolve({
            intent: { accountSid: str(s.request.accountSid) },
            // Twilio cannot reopen a closed account: no undo.
            undo: null,
          }),
        run: (intent) =>
          twilioCall(async () => {
            await twilio.post(accountPath(str(intent.accountSid)), { Status: "closed" });
            return { closed: true };
          }),
        reconcile: async (intent) => {
          const account = await twilio.get(accountPath(str(intent.accountSid)));
          return account.status === "closed" ? { closed: true } : null;
        },
      },

      mark_released: {
        name: "mark_released",
        plan: (s) => Promise.resolve({ intent: { e164: str(s.request.e164) }, undo: null }),
        run: async (intent, s) => {
          await sql.begin(async (tx) => {
            await tx`
              update public.telephony_numbers set state = 'released', active = false
               where e164 = ${str(intent.e164)} and last_transaction_id = ${s.transactionId}
                 and state = 'releasing'`;
            if (s.results.close_subaccount) {
              await tx`update public.telephony_subaccounts set status = 'closed'
                        where account_sid = ${str(s.request.accountSid)}`;
            }
          });
          return { e164: str(intent.e164) };
        },
        reconcile: async (intent, s) => {
          const [row] = await sql`
            select 1 from public.telephony_numbers
             where e164 = ${str(intent.e164)} and last_transaction_id = ${s.transactionId}
               and state = 'released'`;
          return row ? { e164: str(intent.e164) } : null;
        },
      },
    },
  };
}
