import { IncomingMessage, ServerResponse } from 'node:http';

/** The app's prototypes of every request and response (Express's `app.request` and `app.response`). */
interface AppPrototypes {
  request: object;
  response: object;
}

const made = new WeakMap<AppPrototypes, { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse }>();

/**
 * Request and response classes whose instances are born with the app's own prototypes, for Node's `createServer`
 * (its `IncomingMessage` and `ServerResponse` options). Express sets `app.request` and `app.response` as the
 * prototypes of every request and response it handles: on objects that already have them that is a no-op, where
 * changing an object's prototype would otherwise turn every later property access on `req` and `res` (Node's own
 * included) into a slow lookup.
 *
 * Each is a subclass of Node's class, and becomes the app's prototype: its prototype takes the place of
 * `app.request` (`app.response`), with their own properties (`app`, and any added before) and Express's methods
 * behind them. A subclass constructs through Node's constructor as `new` does. Running that constructor as a plain
 * function on an object made by another (as this module did until issue 17's tenth round) leaves the object
 * with no room for Node's ~35 response fields: V8 then keeps the response's properties in a dictionary, and every
 * access to them on the way out (setHeader, writeHead, end) is a lookup: with this change (and two smaller ones) a
 * customer lookup went from 0.86 to 0.77 CPU ms (bench:ab). Made once per app.
 */
export function appMessageClasses(app: AppPrototypes): {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
} {
  const known = made.get(app);
  if (known) return known;
  class AppRequest extends IncomingMessage {}
  class AppResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
  app.request = becomeAppPrototype(AppRequest.prototype, app.request);
  app.response = becomeAppPrototype(AppResponse.prototype, app.response);
  const classes = { IncomingMessage: AppRequest, ServerResponse: AppResponse };
  made.set(app, classes);
  return classes;
}

/** `prototype` with `appPrototype`'s own properties, inheriting what it inherits (Express's methods). */
function becomeAppPrototype(prototype: object, appPrototype: object): object {
  Object.setPrototypeOf(prototype, Object.getPrototypeOf(appPrototype) as object);
  Object.defineProperties(prototype, Object.getOwnPropertyDescriptors(appPrototype));
  return prototype;
}
