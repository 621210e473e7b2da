import type mongoose from 'mongoose';

/**
 * A model's raw driver collection, typed with `TSchema`: the shape its documents are stored in (the model's
 * schema as the driver reads and writes it, e.g. `_id: string` where the schema declares a string id).
 * Mongoose types `Model.collection` as `Collection<AnyObject>`, so reads through it come back untyped; the
 * connection caches one collection object per name, so this is the very object `model.collection` is.
 * `TSchema` is not checked against the schema: it is the one place a stored shape is declared, not inferred.
 */
export function typedCollection<TSchema extends mongoose.mongo.Document>(
  model: Pick<mongoose.Model<unknown>, 'db' | 'collection'>,
): mongoose.mongo.Collection<TSchema> {
  return model.db.collection<TSchema>(model.collection.collectionName);
}
