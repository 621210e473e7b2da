import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Request and response classes whose instances are born with the app's own prototypes (`app.request`,
 * `app.response`). Express sets those prototypes on every request it handles; on objects that already have them
 * that is a no-op, where changing an object's prototype would otherwise turn every later property access on
 * `req` and `res` (Node's own included) into a slow lookup. Node builds each request's objects with these
 * (`createServer`'s `IncomingMessage` and `ServerResponse` options); they are Node's own constructors, run on
 * objects that inherit from Node's prototypes through Express's. `app` is the Express application.
 */
export function appMessageClasses(app: { request: object; response: object }): {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
} {
  function AppRequest(this: IncomingMessage, socket: Socket) {
    initRequest.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: object) {
    initResponse.call(this, req, options);
  }
  AppResponse.prototype = app.response;
  // Node calls both with `new`; TypeScript has no type for a function constructor, so they are cast to the
  // classes they construct.
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}

// Node's constructors as the plain functions they are (`function IncomingMessage(socket)`, `function
// ServerResponse(req, options)`), to run on an object already made; TypeScript knows them only as classes.
const initRequest = IncomingMessage as unknown as (this: IncomingMessage, socket: Socket) => void;
const initResponse = ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: object) => void;
