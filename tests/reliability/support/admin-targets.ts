/**
 * The admin functions the reliability suite attacks, by DESIGN.md's contract
 * (a function that does not exist yet is skipped). Another admin function
 * joins by adding an entry.
 */
import type { Dice } from "./seeded.ts";

export interface AdminRoute {
  method: string;
  /** Path after the function's slug, with its query. */
  path: string;
  body?: unknown;
}

export interface AdminTarget {
  slug: string;
  /** Every route of the function, with well-formed bodies. */
  routes(dice: Dice): AdminRoute[];
}

export const ADMIN_TARGETS: AdminTarget[] = [
  {
    slug: "telephony-provision",
    routes: (dice) => [
      { method: "POST", path: "/numbers", body: { client: "Acme", areaCode: "587" } },
      {
        method: "POST",
        path: "/numbers",
        body: {
          client: "Acme",
          phoneNumber: `+1587555${dice.int(1000, 9999)}`,
          salesTarget: "+15875550111",
          subaccount: true,
        },
      },
      { method: "DELETE", path: `/numbers/${encodeURIComponent("+15877428885")}` },
      { method: "GET", path: `/transactions/${crypto.randomUUID()}` },
      { method: "POST", path: "/transactions/resume" },
    ],
  },
];
