/** snake_case timestamps, as the original's JSON had. `as const` keeps the names literal for type inference. */
export const timestamps = { createdAt: 'created_at', updatedAt: 'updated_at' } as const;
