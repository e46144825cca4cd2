export { StorageUnavailableError, type PutInput, type Storage, type StoredObject } from "./storage.ts";
export { isObjectKey, newObjectKey } from "./keys.ts";
export { contentTypeForExtension } from "./content-types.ts";
export { createLocalStorage, localFileUrl, type LocalStorageOptions } from "./local-storage.ts";
export { createOssStorage, ossPublicUrl, type OssStorageOptions } from "./oss-storage.ts";
export { createStorage, storageConfigSchema, type StorageConfig } from "./create-storage.ts";
export { isPrivateKey, signQuery, verifySignedQuery } from "./signed-urls.ts";
