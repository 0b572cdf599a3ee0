import { InvalidInputError } from '../core/errors.ts';
import type { DependencyEdge } from '../core/model.ts';

/**
 * Call ratios of Online Boutique (GoogleCloudPlatform/microservices-demo,
 * the release in data/online-boutique), derived from its load generator's
 * request mix and from what each handler calls in the application's source.
 * The whole table is here, in one place; docs/dependency-graph.md works the
 * numbers out by hand.
 *
 * 1. The mix: locustfile.py's `UserBehavior.tasks` weights (per 19 user actions).
 * 2. Each action is one or more frontend HTTP requests. Locust's HTTP clients
 *    follow redirects, so a POST answered with 302 adds the GET it redirects to.
 * 3. Each request kind ("frontend GET /cart", "checkoutservice PlaceOrder", …)
 *    makes a fixed list of calls, counted from the handlers.
 * 4. Propagating the mix through that table gives every request kind's rate;
 *    the ratio of edge A → B is B's calls from A divided by A's requests.
 *
 * Quantities that depend on session state are parameters (`BoutiqueAssumptions`),
 * chosen on the side of more calls: every call count grows with the cart size.
 */

/** The load generator's tasks (locustfile.py). */
export type LocustTask = 'index' | 'setCurrency' | 'browseProduct' | 'addToCart' | 'viewCart' | 'checkout';

/** `UserBehavior.tasks` in locustfile.py: relative weights of the user actions. */
export const LOCUST_TASK_WEIGHTS: Readonly<Record<LocustTask, number>> = {
  index: 1,
  setCurrency: 2,
  browseProduct: 10,
  addToCart: 2,
  viewCart: 3,
  checkout: 1,
};

export interface BoutiqueAssumptions {
  /** Products in the catalogue: products.json holds 9, the 9 ids locustfile.py picks from. */
  readonly catalogProducts: number;
  /** recommendationservice returns min(5, products not excluded) ids (`max_responses = 5`). */
  readonly maxRecommendations: number;
  /**
   * Distinct products in the cart when the cart page is rendered or an order is
   * placed. A locust session's cart is emptied by each checkout and grows by
   * adds (2 adds per checkout): its stationary mean is 18/11 ≈ 1.64 products
   * before a task and 27/11 ≈ 2.45 just after an add (docs/dependency-graph.md);
   * 3 rounds the larger up, so no call count is under-stated.
   */
  readonly cartLines: number;
  /**
   * Whether the load generator follows the 302s of POST /setCurrency and
   * POST /cart (locust's HTTP clients do by default, as browsers do); false
   * drops the GET each redirect adds.
   */
  readonly followRedirects: boolean;
}

export const BOUTIQUE_ASSUMPTIONS: BoutiqueAssumptions = { catalogProducts: 9, maxRecommendations: 5, cartLines: 3, followRedirects: true };

/** Frontend HTTP requests each task makes, in order. */
export function taskRequests(followRedirects: boolean): Readonly<Record<LocustTask, readonly string[]>> {
  const then = (redirect: string) => (followRedirects ? [redirect] : []);
  return {
    index: ['GET /'],
    // setCurrencyHandler sets a cookie and answers 302 to the Referer, or "/" (locust sends none).
    setCurrency: ['POST /setCurrency', ...then('GET /')],
    browseProduct: ['GET /product/{id}'],
    // addToCart(): GET the product page, then POST /cart, answered 302 → /cart.
    addToCart: ['GET /product/{id}', 'POST /cart', ...then('GET /cart')],
    viewCart: ['GET /cart'],
    // checkout(): addToCart() then POST /cart/checkout, which renders the order page (no redirect).
    checkout: ['GET /product/{id}', 'POST /cart', ...then('GET /cart'), 'POST /cart/checkout'],
  };
}

/** The requests of each task with redirects followed (the default). */
export const TASK_REQUESTS = taskRequests(true);

/** One kind of call: `count` calls of `service`'s `method` per request served. */
export interface Call {
  readonly service: string;
  readonly method: string;
  readonly count: number;
}

const call = (service: string, method: string, count: number): Call => ({ service, method, count });

/**
 * What serving one request of each kind calls, keyed "service method".
 * Services absent from the keys (currency, product catalogue, shipping,
 * payment, email, ad, Redis) call nothing.
 */
export function boutiqueCallTable(a: BoutiqueAssumptions = BOUTIQUE_ASSUMPTIONS): Readonly<Record<string, readonly Call[]>> {
  const P = a.catalogProducts;
  const C = a.cartLines;
  /** Recommended ids when `excluded` products are excluded: the frontend then fetches every one (getRecommendations keeps 4 only after fetching). */
  const R = (excluded: number) => Math.min(a.maxRecommendations, Math.max(0, P - excluded));
  return {
    // src/frontend/handlers.go homeHandler. convertCurrency always calls (rpc.go: avoidNoopCurrencyConversionRPC = false).
    'frontend GET /': [
      call('currencyservice', 'GetSupportedCurrencies', 1),
      call('productcatalogservice', 'ListProducts', 1),
      call('cartservice', 'GetCart', 1),
      call('currencyservice', 'Convert', P), // every product's price on the home page
      call('adservice', 'GetAds', 1),
    ],
    // setCurrencyHandler: a cookie and a redirect, no calls.
    'frontend POST /setCurrency': [],
    // productHandler: the product, currencies, cart, its price, recommendations (excluding this product), an ad.
    'frontend GET /product/{id}': [
      call('productcatalogservice', 'GetProduct', 1),
      call('currencyservice', 'GetSupportedCurrencies', 1),
      call('cartservice', 'GetCart', 1),
      call('currencyservice', 'Convert', 1),
      call('recommendationservice', 'ListRecommendations', 1),
      call('productcatalogservice', 'GetProduct', R(1)),
      call('adservice', 'GetAds', 1),
    ],
    // addToCartHandler: the product, then AddItem.
    'frontend POST /cart': [call('productcatalogservice', 'GetProduct', 1), call('cartservice', 'AddItem', 1)],
    // viewCartHandler: currencies, cart, recommendations (excluding the cart's products), a shipping quote and its
    // conversion, then each cart line's product and price.
    'frontend GET /cart': [
      call('currencyservice', 'GetSupportedCurrencies', 1),
      call('cartservice', 'GetCart', 1),
      call('recommendationservice', 'ListRecommendations', 1),
      call('productcatalogservice', 'GetProduct', R(C)),
      call('shippingservice', 'GetQuote', 1),
      call('currencyservice', 'Convert', 1),
      call('productcatalogservice', 'GetProduct', C),
      call('currencyservice', 'Convert', C),
    ],
    // placeOrderHandler: PlaceOrder, recommendations (nothing excluded), currencies.
    'frontend POST /cart/checkout': [
      call('checkoutservice', 'PlaceOrder', 1),
      call('recommendationservice', 'ListRecommendations', 1),
      call('productcatalogservice', 'GetProduct', R(0)),
      call('currencyservice', 'GetSupportedCurrencies', 1),
    ],
    // src/checkoutservice/main.go PlaceOrder: cart; per line its product and price; shipping quote and its
    // conversion; charge; ship; empty the cart; confirmation e-mail.
    'checkoutservice PlaceOrder': [
      call('cartservice', 'GetCart', 1),
      call('productcatalogservice', 'GetProduct', C),
      call('currencyservice', 'Convert', C),
      call('shippingservice', 'GetQuote', 1),
      call('currencyservice', 'Convert', 1),
      call('paymentservice', 'Charge', 1),
      call('shippingservice', 'ShipOrder', 1),
      call('cartservice', 'EmptyCart', 1),
      call('emailservice', 'SendOrderConfirmation', 1),
    ],
    // src/recommendationservice/recommendation_server.py: one ListProducts per request.
    'recommendationservice ListRecommendations': [call('productcatalogservice', 'ListProducts', 1)],
    // src/cartservice RedisCartStore over IDistributedCache: a read is one Redis command (HMGET), a write one
    // (a script setting value and expiry); AddItem reads then writes, EmptyCart writes an empty cart.
    'cartservice GetCart': [call('redis-cart', 'read', 1)],
    'cartservice AddItem': [call('redis-cart', 'read', 1), call('redis-cart', 'write', 1)],
    'cartservice EmptyCart': [call('redis-cart', 'write', 1)],
  };
}

export interface BoutiqueDerivation {
  /** Frontend HTTP requests per round of tasks (one round = Σ weights user actions). */
  readonly frontendRequestsPerRound: number;
  readonly tasksPerRound: number;
  /** Requests of each kind ("service method") per frontend request. */
  readonly perFrontendRequest: Readonly<Record<string, number>>;
  /** Edge ratios: calls of `to` per request of `from`, averaged over `from`'s request mix. */
  readonly edges: readonly DependencyEdge[];
}

/** The services that call others, callers first (the call table is acyclic in this order). */
const CALLER_ORDER = ['frontend', 'checkoutservice', 'recommendationservice', 'cartservice'];

/**
 * Propagate the task mix through the call table. The load generator's
 * "request" is one user action (a locust task): its edge to the frontend
 * carries the HTTP requests per action.
 */
export function deriveBoutiqueRatios(weights: Readonly<Record<string, number>> = LOCUST_TASK_WEIGHTS, a: BoutiqueAssumptions = BOUTIQUE_ASSUMPTIONS): BoutiqueDerivation {
  const table = boutiqueCallTable(a);
  const perTask = taskRequests(a.followRedirects);
  const rates = new Map<string, number>();
  const add = (kind: string, r: number) => rates.set(kind, (rates.get(kind) ?? 0) + r);
  let tasksPerRound = 0;
  for (const [task, w] of Object.entries(weights)) {
    const requests = perTask[task as LocustTask];
    if (!requests) throw new InvalidInputError('locust task weights', `unknown task "${task}" (the Online Boutique table knows ${Object.keys(perTask).join(', ')})`);
    if (!Number.isFinite(w) || w < 0) throw new InvalidInputError('locust task weights', `task "${task}" has weight ${w}; weights are numbers ≥ 0`);
    tasksPerRound += w;
    for (const r of requests) add(`frontend ${r}`, w);
  }
  const frontendRequestsPerRound = [...rates.values()].reduce((s, r) => s + r, 0);
  if (frontendRequestsPerRound === 0) throw new InvalidInputError('locust task weights', 'every weight is 0: no requests to derive ratios from');

  // Callers first: every kind's rate is final before it is used.
  const calls = new Map<string, Map<string, number>>(); // from → to → calls per round
  for (const caller of CALLER_ORDER) {
    for (const [kind, rate] of [...rates].filter(([k]) => k.startsWith(`${caller} `))) {
      for (const c of table[kind] ?? []) {
        if (CALLER_ORDER.indexOf(c.service) !== -1 && CALLER_ORDER.indexOf(c.service) <= CALLER_ORDER.indexOf(caller)) {
          throw new Error(`call table: ${kind} calls ${c.service}, which is not after ${caller} in CALLER_ORDER`);
        }
        add(`${c.service} ${c.method}`, rate * c.count);
        const row = calls.get(caller) ?? new Map<string, number>();
        row.set(c.service, (row.get(c.service) ?? 0) + rate * c.count);
        calls.set(caller, row);
      }
    }
  }
  const requestsOf = (service: string) => [...rates].filter(([k]) => k.startsWith(`${service} `)).reduce((s, [, r]) => s + r, 0);
  const edges: DependencyEdge[] = [{ from: 'loadgenerator', to: 'frontend', callsPerRequest: frontendRequestsPerRound / tasksPerRound }];
  for (const caller of CALLER_ORDER) {
    const served = requestsOf(caller);
    for (const [to, n] of calls.get(caller) ?? []) edges.push({ from: caller, to, callsPerRequest: served > 0 ? n / served : 0 });
  }
  const perFrontendRequest = Object.fromEntries([...rates].map(([k, r]) => [k, r / frontendRequestsPerRound]));
  return { frontendRequestsPerRound, tasksPerRound, perFrontendRequest, edges };
}

/** The services the derivation covers: manifests holding all of them are taken for Online Boutique. */
export const BOUTIQUE_SERVICES: readonly string[] = [
  'frontend',
  'checkoutservice',
  'recommendationservice',
  'cartservice',
  'currencyservice',
  'productcatalogservice',
  'shippingservice',
  'paymentservice',
  'emailservice',
  'adservice',
  'redis-cart',
];
