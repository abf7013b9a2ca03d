package journal

// OSLockAvailable tells external tests whether FileStore takes an OS lock
// on this platform.
const OSLockAvailable = haveOSLock
