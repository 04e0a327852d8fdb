"""Client of ``KeyStorePaper`` (contracts/KeyStorePaper.sol): the paper's contract, flaws kept."""

from __future__ import annotations

from ethvoip.impl.chain.backend import Chain
from ethvoip.impl.chain.contract import ContractClient, TxResult


class PaperKeyStoreClient(ContractClient):
    ARTIFACT = "KeyStorePaper"

    @classmethod
    def deploy(cls, chain: Chain, creator: str) -> PaperKeyStoreClient:
        """Deploy; ``creator`` (the wallet management) is the only one who may approve."""
        return cls(chain, cls._deploy(chain, creator))

    def add_client(
        self, phone_number: str, public_key: bytes, receipt: str, sender: str
    ) -> TxResult:
        return self.send("addClient", sender, phone_number, public_key, receipt)

    def approve_client(self, phone_number: str, receipt: str, sender: str) -> TxResult:
        return self.send("approveClient", sender, phone_number, receipt)

    def get_client(self, phone_number: str) -> bytes:
        """The approved key of a number; ``ContractRevert("UnknownClient")`` when none."""
        return bytes(self.call("getClient", phone_number))

    def pending(self, receipt: str) -> tuple[str, bytes, str, bool]:
        """pendingList[receipt] as (phoneNumber, publicKey, receipt, exists)."""
        phone, key, rec, exists = self.call("pendingList", receipt)
        return str(phone), bytes(key), str(rec), bool(exists)

    def approved(self, receipt: str) -> tuple[str, bytes, str, bool]:
        """approvedList[receipt] as (phoneNumber, publicKey, receipt, exists)."""
        phone, key, rec, exists = self.call("approvedList", receipt)
        return str(phone), bytes(key), str(rec), bool(exists)

    def receipt_of(self, phone_number: str) -> str:
        return str(self.call("receiptOf", phone_number))

    @property
    def creator(self) -> str:
        return str(self.call("creator"))
