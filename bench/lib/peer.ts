// The peer the API is compared with in `npm run bench:api` (the "peer" rows): GET-by-id the way the popular
// Express + Mongoose starters serve it (node-express-boilerplate and its kind), written here from that shape,
// not copied. helmet, JSON and urlencoded body parsers, CORS, an access log, passport with a passport-jwt
// strategy whose verify callback loads the user on every request, a permission check, param validation,
// a catchAsync-wrapped controller that reads a hydrated Mongoose document and sends its toJSON (private fields
// removed by a transform), and an error handler. Same database, same token, same JSON fields as the service.
//
// Run as its own process: node --import tsx bench/lib/peer.ts, with MONGODB_URI, JWT_SECRET and PORT in its
// environment. Prints {"port":N} when listening.
import cors from 'cors';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import mongoose from 'mongoose';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy, type VerifiedCallback } from 'passport-jwt';
import pino from 'pino';
import { pinoHttp } from 'pino-http';

const env = process.env;

const userSchema = new mongoose.Schema(
  {
    name: String,
    email: String,
    password_hash: { type: String, private: true },
    role: String,
    token_version: Number,
  },
  { collection: 'users', timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' } },
);
const User = mongoose.model('PeerUser', userSchema);

const customerSchema = new mongoose.Schema(
  {
    name: String,
    email: String,
    company: String,
    phone: String,
    status: String,
    owner: { type: mongoose.Schema.Types.ObjectId, ref: 'PeerUser' },
    tags: [String],
    address: { street: String, city: String, state: String, postal_code: String, country: String },
    password_hash: { type: String, select: false },
    token_version: Number,
    search_terms: { type: [String], select: false },
  },
  {
    collection: 'customers',
    timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' },
    versionKey: false,
    // The starters' toJSON plugin: id instead of _id, private fields out.
    toJSON: {
      transform(_doc, ret: Record<string, unknown>) {
        const id = String(ret._id);
        const out: Record<string, unknown> = {
          id,
          customer_id: id,
          ...ret,
          owner_id: ret.owner instanceof mongoose.Types.ObjectId ? ret.owner.toHexString() : null,
        };
        delete out._id;
        delete out.owner;
        delete out.token_version;
        return out;
      },
    },
  },
);
const Customer = mongoose.model('PeerCustomer', customerSchema);

class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const catchAsync =
  (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    fn(req, res, next).catch(next);
  };

passport.use(
  'jwt',
  new JwtStrategy(
    {
      // The secret as a string, as the starters configure it: jsonwebtoken then tries to parse it as a public key on
      // every verify (~0.3 ms a request), which the service and the baseline avoid with a key object.
      secretOrKey: env.JWT_SECRET ?? '',
      jwtFromRequest: ExtractJwt.fromExtractors([ExtractJwt.fromHeader('token'), ExtractJwt.fromAuthHeaderAsBearerToken()]),
      algorithms: ['HS256'],
      issuer: env.JWT_ISSUER ?? 'crm-api',
      audience: env.JWT_AUDIENCE ?? 'crm-clients',
    },
    (payload: { sub: string; typ: string; ver: number }, done: VerifiedCallback) => {
      User.findById(payload.sub)
        .then((user) => done(null, user && Number(user.get('token_version')) === payload.ver ? user : false))
        .catch((error: unknown) => done(error, false));
    },
  ),
);

const rights: Record<string, string[]> = { ADMIN: ['getCustomers', 'manageCustomers'], MANAGER: ['getCustomers'], USER: ['getCustomers'] };

function auth(...required: string[]): RequestHandler {
  return (req, res, next) => {
    // passport's typings declare authenticate() as returning `any`; it returns the middleware it builds.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    const authenticate: RequestHandler = passport.authenticate(
      'jwt',
      { session: false },
      (error: unknown, user: { role?: string } | false) => {
        if (error || !user) return next(new ApiError(401, 'Please authenticate'));
        const granted = rights[user.role ?? ''] ?? [];
        if (!required.every((right) => granted.includes(right))) return next(new ApiError(403, 'Forbidden'));
        req.user = user;
        next();
      },
    );
    authenticate(req, res, next);
  };
}

const objectId = /^[0-9a-fA-F]{24}$/;
const validateId: RequestHandler = (req, _res, next) => {
  next(objectId.test(String(req.params.customerId)) ? undefined : new ApiError(400, '"customerId" must be a valid mongo id'));
};

const getCustomer = catchAsync(async (req, res) => {
  const customer = await Customer.findById(req.params.customerId);
  if (!customer) throw new ApiError(404, 'Customer not found');
  res.send(customer);
});

const app = express();
app.use(pinoHttp({ logger: pino({ level: 'info' }) }));
app.use(helmet());
app.use(express.json());
app.use(express.urlencoded({ extended: true }));
app.use(cors());
app.use(passport.initialize());
app.get('/customers/:customerId', auth('getCustomers'), validateId, getCustomer);
app.use((_req, _res, next) => next(new ApiError(404, 'Not found')));
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  const status = error instanceof ApiError ? error.statusCode : 500;
  res.status(status).send({ code: status, message: error instanceof Error ? error.message : 'Internal error' });
});

async function main() {
  await mongoose.connect(env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/crm');
  const server = app.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeIdleConnections();
    void mongoose.disconnect().then(() => process.exit(0));
  });
}

void main();
